/**
 * Probe output is one stream per host; each task's part of it is framed by a marker line so the
 * parsers can be handed exactly their own text. A resource that probes several things frames its
 * parts with the inner marker. No probe prints a marker by itself (file contents travel base64).
 */
export const TASK_MARK = '@@lvsplay-task';
export const PART_MARK = '@@lvsplay-part';
/** Around whole resources a resource is made of (drain: the ipvs and ldirectord resources). */
export const RESOURCE_MARK = '@@lvsplay-resource';

/** Shell that runs `fragment` with its output framed as section `name` (`{ :` so a fragment with no command still parses). */
export function framed(name: string, fragment: string, mark: string = PART_MARK): string {
  if (!/^[A-Za-z0-9_.:/-]+$/.test(name)) throw new Error(`bad section name ${name}`);
  return `printf '\\n${mark} %s@@\\n' '${name}'\n{ :\n${fragment.trimEnd()}\n}\n`;
}

/** The marker lines of `output`, in order: each with its section's name. */
export function markLines(output: string, mark: string = PART_MARK): RegExpMatchArray[] {
  return [...output.matchAll(new RegExp(`^${mark} (.+)@@$`, 'gm'))];
}

/** Split framed output back into sections by name. Text before the first marker is dropped. */
export function splitSections(output: string, mark: string = PART_MARK): Map<string, string> {
  const sections = new Map<string, string>();
  const marks = markLines(output, mark);
  marks.forEach((m, i) => {
    const start = (m.index ?? 0) + m[0].length + 1;
    const end = i + 1 < marks.length ? (marks[i + 1]!.index ?? output.length) - 1 : output.length;
    sections.set(m[1]!, output.slice(start, Math.max(start, end)));
  });
  return sections;
}
