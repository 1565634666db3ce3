/**
 * `wait`: a health gate, delegated: from every director carrying the play's host (a real server),
 * the server must answer before the play goes on — a TCP connect, an HTTP(S) request with the
 * expected status (and body), a DNS answer, or a command — retried every `interval` seconds, at
 * most `retries` times. The check runs in the probe (it only looks); a gate that does not pass
 * fails the host, which then stays as it is (drained, in a rollout).
 */
import { hostPort } from '../../inventory/addresses.js';
import type { RealServer } from '../../inventory/model.js';
import { defineResource, type HostContext } from '../resource.js';

export interface Check {
  kind: 'tcp' | 'http' | 'dns' | 'command';
  address: string;
  port: number;
  /** http: the URL; dns: the name; command: the command. */
  target: string;
  status?: number;
  body?: string;
}

export interface WaitDesired {
  subject: string;
  checks: Check[];
  interval: number;
  retries: number;
  timeout: number;
}

/** The ports the subject serves through this director: the members' ports of the services it carries. */
function servedPorts(ctx: HostContext, subject: RealServer): number[] {
  const ports = ctx.cluster.services
    .filter((s) => s.directors.includes(ctx.host.name))
    .flatMap((s) => s.realServers.filter((m) => m.server === subject.name && s.protocol === 'tcp').map((m) => m.port));
  return [...new Set(ports)].filter((p) => p > 0);
}

export const wait = defineResource({
  kind: 'wait',
  delegate: 'directors',
  desired(ctx, args): WaitDesired {
    const subject = ctx.subject;
    if (!subject) throw new Error('wait runs on the directors carrying a real server: the play\'s hosts must be real servers');
    const address = subject.address;
    const ports = servedPorts(ctx, subject);
    const checks: Check[] = [];
    const tcp = args.tcp === true || (args.tcp === undefined && !args.http && !args.dns && !args.command) ? ports : args.tcp !== undefined ? [args.tcp] : [];
    for (const port of tcp) checks.push({ kind: 'tcp', address, port, target: '' });
    if (args.http) {
      const port = args.http.port ?? (args.http.https ? 443 : ports[0] ?? 80);
      checks.push({ kind: 'http', address, port, target: `${args.http.https ? 'https' : 'http'}://${hostPort(address, port)}${args.http.path}`, status: args.http.status, ...(args.http.body !== undefined && { body: args.http.body }) });
    }
    if (args.dns) checks.push({ kind: 'dns', address, port: args.dns.port, target: args.dns.name });
    if (args.command) checks.push({ kind: 'command', address, port: ports[0] ?? 0, target: args.command });
    return { subject: subject.name, checks, interval: args.interval, retries: args.retries, timeout: args.timeout };
  },
  probe: (desired, ctx) => ctx.templates.render('wait/gate.sh.hbs', desired),
  parse: (output) => {
    const line = output.split('\n').find((l) => l.startsWith('gate '))?.slice(5) ?? 'fail no answer from the gate';
    return line === 'pass' ? { passed: true, why: '' } : { passed: false, why: line.replace(/^fail /, '') };
  },
  diff(desired, actual) {
    // No facts at all (render, plan against nothing) pass: the gate is a live check.
    if (actual.passed || actual.why === 'no answer from the gate') return { changes: [], script: '' };
    throw new Error(`health gate for ${desired.subject} did not pass after ${desired.retries} tries: ${actual.why}`);
  },
});
