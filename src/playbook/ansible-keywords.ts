/**
 * Ansible's task keywords (ansible-core's Task, Block and Base attributes, and the include/import
 * actions), which users coming from Ansible write on lvsplay tasks. lvsplay has none of them: a
 * task is a name and one kind. Naming them as Ansible's, with what to use instead, beats calling
 * `when` an "unknown task kind".
 */
import { own } from '../util/own.js';

const INSTEAD: Record<string, string> = {
  when: 'there are no conditionals: select the hosts with the play\'s hosts or --limit, or write a play of its own',
  tags: 'run a playbook of its own instead of a tagged part',
  notify: 'a file task reloads or restarts a unit itself with on_change; ldirectord and keepalived reload on change',
  register: 'a shell task decides by its own check; there are no registered results',
  changed_when: 'a shell task runs only when its check fails, and then counts as changed',
  failed_when: 'a task fails when its script does; a shell task\'s check decides whether it runs',
  become: 'becoming root is per host, in the inventory\'s ssh.become',
  become_user: 'becoming root is per host, in the inventory\'s ssh.become',
  delegate_to: 'drain, undrain and wait run on every director that carries the play\'s host by themselves',
  ignore_errors: 'a failed host is left out of later tasks and plays; use the play\'s max_fail_percentage for how many may fail',
  until: 'a health gate is the wait task, with interval, retries and timeout',
  retries: 'a health gate is the wait task, with interval, retries and timeout',
  loop: 'there are no loops: a template iterates with {{#each}}',
};
const OTHERS = [
  'action', 'any_errors_fatal', 'args', 'async', 'become_exe', 'become_flags', 'become_method', 'block', 'always', 'rescue',
  'check_mode', 'collections', 'connection', 'debugger', 'delay', 'delegate_facts', 'diff', 'environment', 'ignore_unreachable',
  'import_role', 'import_tasks', 'include_role', 'include_tasks', 'local_action', 'loop_control', 'module_defaults', 'no_log', 'poll',
  'port', 'remote_user', 'run_once', 'throttle', 'timeout', 'vars',
];

/** What to say about `key` on a task if it is one of Ansible's task keywords (or a `with_<lookup>` loop); undefined otherwise. */
export function ansibleTaskKeyword(key: string): string | undefined {
  const instead = own(INSTEAD, key) ?? (key.startsWith('with_') ? INSTEAD['loop'] : undefined);
  if (instead === undefined && !OTHERS.includes(key)) return undefined;
  return `"${key}" is an Ansible task keyword lvsplay does not have (a task is a name and one kind)${instead ? `: ${instead}` : ''}`;
}
