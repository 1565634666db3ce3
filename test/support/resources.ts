/** One resource through its four parts, and a readable document of the result for golden files. */
import type { TaskKind } from '../../src/playbook/tasks.js';
import type { Change } from '../../src/plan/types.js';
import { RESOURCES } from '../../src/resources/index.js';
import type { HostContext, Resource } from '../../src/resources/resource.js';
import type { Secret } from '../../src/util/secret.js';
import { TASK_ARGS } from '../../src/playbook/tasks.js';

export interface Outcome {
  desired: unknown;
  probe: string;
  actual: unknown;
  changes: Change[];
  script: string;
  /** What the script carries as tokens (a secret file's content). */
  secrets?: Secret[];
}

export function resourceOf(kind: TaskKind): Resource<TaskKind, unknown, unknown> {
  const resource = RESOURCES[kind] as Resource<TaskKind, unknown, unknown> | undefined;
  if (!resource) throw new Error(`no resource ${kind}`);
  return resource;
}

/** desired → probe → parse(facts) → diff, as planHost does for one task. */
export function run(kind: TaskKind, ctx: HostContext, args: unknown, facts: string): Outcome {
  const resource = resourceOf(kind);
  const desired = resource.desired(ctx, TASK_ARGS[kind].parse(args) as never);
  const probe = resource.probe(desired, ctx);
  const actual = resource.parse(facts, desired);
  const { changes, script, secrets } = resource.diff(desired, actual, ctx);
  return { desired, probe, actual, changes, script, ...(secrets && { secrets }) };
}

/** Maps as objects and long texts (file contents) pulled out to be printed as they are. */
function printable(value: unknown, texts: [string, string][], path: string): unknown {
  if (value instanceof Map) return printable(Object.fromEntries(value), texts, path);
  if (Array.isArray(value)) return value.map((v, i) => printable(v, texts, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, printable(v, texts, path ? `${path}.${k}` : k)]));
  }
  if (typeof value === 'string' && value.includes('\n')) {
    texts.push([path, value]);
    return `<text ${path}, below>`;
  }
  return value;
}

/** Everything a golden file pins for one case: desired state, probe, facts, changes, script. */
export function describeOutcome(title: string, facts: string, o: Outcome): string {
  const texts: [string, string][] = [];
  const desired = JSON.stringify(printable(o.desired, texts, ''), null, 2);
  const actual = JSON.stringify(printable(o.actual, [], ''), null, 2);
  const changes = o.changes.map((c) => {
    const side = (label: string, v: string | undefined) => (v === undefined ? '' : v.includes('\n') ? `\n    ${label}: |\n${v.replace(/^/gm, '      ')}` : `\n    ${label}: ${JSON.stringify(v)}`);
    return `  [${c.action}] ${c.id}\n    ${c.summary}${side('before', c.before)}${side('after', c.after)}`;
  });
  return [
    `# ${title}`,
    '',
    '## desired',
    desired,
    ...texts.flatMap(([path, text]) => ['', `## desired ${path}`, text.trimEnd()]),
    '',
    '## probe fragment',
    o.probe.trimEnd(),
    '',
    '## facts (probe output)',
    facts === '' ? '(empty)' : facts.trimEnd(),
    '',
    '## parsed',
    actual,
    '',
    `## changes (${o.changes.length})`,
    ...changes,
    '',
    '## script',
    o.script === '' ? '(empty)' : o.script.trimEnd(),
    '',
  ].join('\n');
}
