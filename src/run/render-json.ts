/** `--json`: one machine-readable document on stdout at the end, and nothing else there. */
import type { Play } from '../playbook/model.js';
import { recap } from './recap.js';
import type { HostResult, Renderer } from './types.js';

export class JsonRenderer implements Renderer {
  private readonly plays: { name: string; hosts: string[] }[] = [];
  private readonly notes: string[] = [];

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly options: { check: boolean },
  ) {}

  playStart(play: Play, hosts: string[]): void {
    this.plays.push({ name: play.name, hosts });
  }

  batchStart(): void {}
  hostProgress(): void {}
  hostDone(): void {}
  async batchEnd(): Promise<void> {}
  hostSkipped(): void {}

  note(text: string): void {
    this.notes.push(text);
  }

  done(results: HostResult[], exitCode: number): void {
    const document = { check: this.options.check, exitCode, plays: this.plays, results, recap: recap(results), notes: this.notes };
    this.out.write(`${JSON.stringify(document, null, 2)}\n`);
  }
}
