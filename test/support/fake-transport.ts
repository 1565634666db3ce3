/**
 * A fake fleet for the scheduler's tests: each host is a Transport whose exec answers the probe
 * script with canned output (one `package` fact per task section) and the apply script with a
 * chosen exit status and, when it succeeded, its verify probe's answer after the script's mark
 * (as the host's shell runs the two in one script), recording every call and how many ran at once.
 * No shell, no SSH.
 */
import type { Host } from '../../src/inventory/model.js';
import { STEP_MARK } from '../../src/plan/pipeline.js';
import { TASK_MARK } from '../../src/resources/sections.js';
import { type ExecResult, type Transport, TransportError, type TransportErrorKind } from '../../src/transport/types.js';

export interface FakeHost {
  /** The package the plays' `package` tasks ask for is installed (the host is as desired). */
  installed?: boolean;
  /** How connecting goes: a TransportError of that kind, or a plain Error ('error'). */
  connect?: 'ok' | TransportErrorKind | 'error';
  /** The probe throws a TransportError of this kind (the connection dropped, the script timed out). */
  probeError?: TransportErrorKind;
  /** The probe's exit status (non-zero: the probe failed). */
  probeCode?: number;
  /** The apply script's exit status; 0 installs the package unless `applyFixes` is false. */
  applyCode?: number;
  applyFixes?: boolean;
  /** The verify probe (after a successful apply, in its script) exits with this status. */
  verifyCode?: number;
  /** How long each exec takes, in ms. */
  delayMs?: number;
  /** Another lvsplay run holds the host's lock. */
  busy?: boolean;
  /** This many probes end with `@@lvsplay-lock moved` (another run took the host during the reads). */
  moved?: number;
  /** This many apply scripts answer `@@lvsplay-lock moved` and change nothing (another run took the host since the probe). */
  movedAtApply?: number;
}

export type ExecKind = 'probe' | 'apply';

export interface FakeEvent {
  host: string;
  what: 'connect' | 'close' | `${ExecKind} start` | `${ExecKind} end`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class FakeFleet {
  readonly events: FakeEvent[] = [];
  readonly execs = new Map<string, ExecKind[]>();
  inFlight = 0;
  maxInFlight = 0;
  private readonly state = new Map<string, FakeHost>();

  constructor(
    hosts: Record<string, FakeHost>,
    private readonly defaults: FakeHost = { installed: true, delayMs: 1 },
  ) {
    for (const [name, h] of Object.entries(hosts)) this.state.set(name, { ...h });
  }

  private host(name: string): FakeHost {
    let h = this.state.get(name);
    if (!h) {
      h = { ...this.defaults };
      this.state.set(name, h);
    }
    return h;
  }

  /** RunOptions.connect */
  connect = async (host: Host): Promise<Transport> => {
    const h = this.host(host.name);
    this.events.push({ host: host.name, what: 'connect' });
    await sleep(0);
    const kind = h.connect ?? 'ok';
    if (kind === 'error') throw new Error(`${host.name}: something odd`);
    if (kind !== 'ok') throw new TransportError(kind, host.name, `${host.name}: ${kind}`);
    return new FakeTransport(host.name, this, h);
  };

  /** Called by the transports. */
  async exec(name: string, h: FakeHost, script: string): Promise<ExecResult> {
    const kind: ExecKind = script.includes('# lvsplay apply') ? 'apply' : 'probe';
    const lock = h.busy ? '@@lvsplay-lock busy lvsplay-run-other since 2026-12-01T00:00:00Z (holder pid 4242)\n' : '@@lvsplay-lock ok\n';
    this.execs.set(name, [...(this.execs.get(name) ?? []), kind]);
    this.events.push({ host: name, what: `${kind} start` });
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await sleep(h.delayMs ?? 1);
      if (kind === 'probe') {
        if (h.probeError) throw new TransportError(h.probeError, name, `${name}: ${h.probeError} during the probe`);
        if (h.probeCode) return { code: h.probeCode, stdout: '', stderr: 'sh: 3: Syntax error\n' };
        if (h.busy) return { code: 0, stdout: lock, stderr: '' };
        const moved = h.moved ? '\n@@lvsplay-lock moved lvsplay-run-other since 2026-12-01T00:00:00Z (holder pid 4242)\n' : '';
        if (h.moved) h.moved -= 1;
        return { code: 0, stdout: lock + probeAnswer(script, h.installed ?? false) + moved, stderr: '' };
      }
      if (h.movedAtApply) {
        h.movedAtApply -= 1;
        return { code: 0, stdout: '@@lvsplay-lock moved lvsplay-run-other since 2026-12-01T00:00:00Z (holder pid 4242)\n', stderr: '' };
      }
      const code = h.applyCode ?? 0;
      if (code !== 0) return { code, stdout: `${lock}${STEP_MARK} 0 start@@\n${STEP_MARK} 0 failed ${code}@@\n`, stderr: 'E: Unable to locate package ipvsadm\n' };
      if (h.applyFixes !== false) h.installed = true;
      const mark = /printf '%s\\n' '(@@lvsplay-verify [0-9a-f]+@@)'/.exec(script)?.[1];
      if (!mark) throw new Error(`fake fleet: no verify mark in the apply script:\n${script}`);
      const verify = probeAnswer(script.slice(script.indexOf(mark)), h.installed ?? false);
      const applied = `${lock}${STEP_MARK} 0 start@@\n${STEP_MARK} 0 ok@@\n${mark}\n`;
      if (h.verifyCode) return { code: h.verifyCode, stdout: applied, stderr: `dpkg: warning: one\n${mark}\nsh: 9: Syntax error\n` };
      return { code: 0, stdout: applied + verify, stderr: `${mark}\n` };
    } finally {
      this.inFlight -= 1;
      this.events.push({ host: name, what: `${kind} end` });
    }
  }

  closed(name: string): void {
    this.events.push({ host: name, what: 'close' });
  }

  /** The hosts in the order their first probe started. */
  probeOrder(): string[] {
    return [...new Set(this.events.filter((e) => e.what === 'probe start').map((e) => e.host))];
  }
}

class FakeTransport implements Transport {
  execCount = 0;

  constructor(
    readonly host: string,
    private readonly fleet: FakeFleet,
    private readonly state: FakeHost,
  ) {}

  exec(script: string): Promise<ExecResult> {
    this.execCount += 1;
    return this.fleet.exec(this.host, this.state, script);
  }

  async close(): Promise<void> {
    this.fleet.closed(this.host);
  }
}

/** The probe output for every task section the script frames: the package fact. */
function probeAnswer(script: string, installed: boolean): string {
  const ids = [...script.matchAll(new RegExp(`printf '\\\\n${TASK_MARK} %s@@\\\\n' '([^']+)'`, 'g'))].map((m) => m[1]!);
  if (ids.length === 0) throw new Error(`fake fleet: no task sections in the probe script:\n${script}`);
  return ids.map((id) => `\n${TASK_MARK} ${id}@@\nipvsadm ${installed ? 'installed' : 'absent'}\n`).join('');
}
