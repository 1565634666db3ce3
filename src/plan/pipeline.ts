/**
 * The pure middle of a run, per host: desired state for each task, the one probe script, the
 * plan from the probe's output, and the one apply script. The runner adds only the I/O around it.
 */
import type { Host, RealServer } from '../inventory/model.js';
import type { Cluster } from '../inventory/model.js';
import type { Play, Task } from '../playbook/model.js';
import { RESOURCES } from '../resources/index.js';
import type { HostContext, Resource } from '../resources/resource.js';
import { framed, markLines, splitSections, TASK_MARK } from '../resources/sections.js';
import { TemplateError, type Templates } from '../templates/templates.js';
import { revealSecrets } from '../util/secret.js';
import { type HostPlan, taskPlan } from './types.js';

export interface PreparedTask {
  id: string;
  task: Task;
  resource: Resource<Task['kind'], unknown, unknown>;
  desired: unknown;
}

export interface PreparedHost {
  ctx: HostContext;
  tasks: PreparedTask[];
  /** The one probe script, rendered with the desired state (so before any host is contacted). */
  probe: string;
}

/** The context of a task on `host`; `subject` is the real server a delegated task (drain, wait) is about. */
export function hostContext(cluster: Cluster, host: Host, play: Play, templates: Templates, subject?: RealServer): HostContext {
  return { cluster, host, vars: { ...host.vars, ...play.vars }, templates, ...(subject && { subject }) };
}

/**
 * Desired state of tasks of `play` on one host (all of them, or those at `indexes`), and the probe
 * script; `playIndex` keeps section names unique across plays. Every template these need is
 * rendered here.
 */
export function prepareHost(ctx: HostContext, play: Play, playIndex: number, indexes: readonly number[] = play.tasks.map((_, t) => t)): PreparedHost {
  const tasks = indexes.map((t) => {
    const task = play.tasks[t]!;
    const resource = RESOURCES[task.kind] as Resource<Task['kind'], unknown, unknown>;
    return { id: `${playIndex}.${t}`, task, resource, desired: atTask(task, () => resource.desired(ctx, task.args as never)) };
  });
  return { ctx, tasks, probe: probeScript(ctx, tasks) };
}

/**
 * A template error with no line of its own (the template a task names is not there, or Handlebars
 * failed on it without saying where) is placed at that task in its playbook: the line to fix.
 */
function atTask<T>(task: Task, make: () => T): T {
  try {
    return make();
  } catch (err) {
    if (!(err instanceof TemplateError) || err.line > 0 || !task.place) throw err;
    const message = err.message.includes(err.file) ? err.message : `${err.file}: ${err.message}`;
    throw new TemplateError(task.place.file, task.place.line, task.place.col, message, err.builtin, task.place.field);
  }
}

/** One script that prints every task's facts, each framed as its own section. */
export function probeScript(ctx: HostContext, tasks: readonly PreparedTask[]): string {
  const body = tasks.map((t) => framed(t.id, t.resource.probe(t.desired, ctx), TASK_MARK)).join('');
  return `# lvsplay probe for ${ctx.host.name}: reads only, changes nothing\n${PREAMBLE}${body}`;
}

/** Every script starts the same: a stable locale for parsers, and the sbin folders a non-login shell lacks. */
const PREAMBLE = 'export LC_ALL=C PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"\n';

/** The plan for one host from its probe output (a missing section parses as "nothing there"). */
export function planHost(host: PreparedHost, probeOutput: string): HostPlan {
  const sections = splitSections(probeOutput, TASK_MARK);
  const tasks = host.tasks.map((t) => {
    const actual = t.resource.parse(sections.get(t.id) ?? '', t.desired);
    const { changes, script, secrets } = t.resource.diff(t.desired, actual, host.ctx);
    return { ...taskPlan(t.task.name, t.task.kind, changes, script, secrets), id: t.id };
  });
  return { host: host.ctx.host.name, tasks };
}

/**
 * Why `output` cannot be this host's probe output, or undefined: the probe prints every task's
 * mark once, whatever the host holds, so a missing or repeated one is another file, or one cut
 * short (saved facts; a live probe that exits 0 always has them).
 */
export function notProbeOutput(host: PreparedHost, output: string): string | undefined {
  const found = markLines(output, TASK_MARK).map((m) => m[1]!);
  const missing = host.tasks.filter((t) => !found.includes(t.id));
  const twice = [...new Set(found.filter((id, i) => found.indexOf(id) !== i))];
  if (missing.length > 0) return `it holds no ${TASK_MARK} section for ${missing.map((t) => `task ${t.id} (${t.task.name})`).join(', ')}: not this host's probe output for these playbooks, or cut short`;
  if (twice.length > 0) return `it holds the ${TASK_MARK} section of task ${twice.join(', ')} twice: not one probe's output`;
  return undefined;
}

export const STEP_MARK = '@@lvsplay-step';

/**
 * The apply script as the host must run it: the secrets' tokens replaced by their values. Only the
 * runner calls this, right before sending; everything that prints scripts uses `applyScript`.
 */
export function revealedApplyScript(plan: HostPlan): string {
  return revealSecrets(applyScript(plan), plan.tasks.flatMap((t) => t.secrets ?? []));
}

/**
 * One script that runs each task's script in order, each in a `set -e` subshell, and stops at
 * the first that fails, saying which. (Not `( ... ) || fail`: POSIX ignores set -e inside a
 * subshell whose status is tested.) The whole of it is one `{ ... }` group: the shell parses a
 * compound command completely before running any of it, so a script the host's sh cannot parse
 * changes nothing, instead of running the tasks before the error.
 */
export function applyScript(plan: HostPlan): string {
  const steps = plan.tasks.flatMap((t, i) =>
    t.script === '' ? [] : [`printf '${STEP_MARK} %s start@@\\n' ${i}\n(\nset -e\n${t.script.trimEnd()}\n)\nrc=$?\nif [ "$rc" -ne 0 ]; then printf '${STEP_MARK} %s failed %s@@\\n' ${i} "$rc"; exit "$rc"; fi\nprintf '${STEP_MARK} %s ok@@\\n' ${i}\n`],
  );
  return `# lvsplay apply for ${plan.host}\n{\n${PREAMBLE}${steps.join('')}}\n`;
}
