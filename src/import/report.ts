/**
 * The import's report: one line per thing the inventory could not say (with the file and line it
 * came from), and notes that ask the operator to act without anything being lost (a secret to put
 * in an environment variable, thresholds that need the --thresholds listing). Nothing an input
 * says is dropped without a line here: the exit status tells a script whether anything was.
 */
import { safeText } from '../util/terminal.js';
import type { Origin } from './model.js';

export interface ReportLine extends Origin {
  kind: 'not expressed' | 'note';
  message: string;
}

export class Report {
  readonly lines: ReportLine[] = [];
  readonly #said = new Set<string>();

  /** Something the input says that the inventory does not (and so lvsplay would not render). */
  notExpressed(at: Origin, message: string): void {
    this.#add({ ...at, kind: 'not expressed', message });
  }

  note(at: Origin, message: string): void {
    this.#add({ ...at, kind: 'note', message });
  }

  /** Each line once: a keepalived group's services are read from one block, and say the same of it. */
  #add(line: ReportLine): void {
    const key = JSON.stringify([line.file, line.line, line.kind, line.message]);
    if (this.#said.has(key)) return;
    this.#said.add(key);
    this.lines.push(line);
  }

  get complete(): boolean {
    return !this.lines.some((l) => l.kind === 'not expressed');
  }

  /** `file:line: not expressed: message`, in file and line order. */
  format(): string {
    const sorted = [...this.lines].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
    return sorted.map((l) => safeText(`${l.file}:${l.line}: ${l.kind}: ${l.message}`) + '\n').join('');
  }
}

/**
 * A check's command line as a report shows it: the program alone, since its arguments may carry a
 * password (`check_mysql -u monitor -p ...`), and the report goes to a terminal or a CI log.
 */
export function programOnly(command: string): string {
  const [program = '', ...args] = command.trim().split(/\s+/);
  return args.length === 0 ? program : `${program} (with arguments, not shown: they may hold a password)`;
}
