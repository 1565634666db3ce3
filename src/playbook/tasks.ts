/**
 * Task kinds a playbook may use, each with the schema of its arguments. The resource modules
 * (src/resources/) implement them; this table is what the loader checks a playbook against, so a
 * misspelt kind or argument is refused before anything runs.
 */
import * as z from 'zod';
import { ConnectPort, DnsName, RemotePath } from '../inventory/fields.js';
import { procPath } from '../resources/sysctl/keys.js';
import { ereProblem } from '../util/ere.js';

// sysctl(8)'s two spellings: net.ipv4.conf.eth0/100.rp_filter and net/ipv4/conf/eth0.100/rp_filter (a VLAN interface)
const SysctlKey = z.string().regex(/^[a-z0-9_]+([./][A-Za-z0-9_-]+)+$/, { error: 'expected a sysctl key like net.ipv4.ip_forward (or net.ipv4.conf.eth0/100.rp_filter)' });
// Not blank: sysctl(8) would write an empty value (an error, or a reset, depending on the key).
const SYSCTL_VALUE = 'expected a sysctl value (a number, or up to 128 letters, digits, spaces and ._:-, not blank)';
const SysctlValue = z.union([z.int(), z.string().regex(/^(?=.*[^ ])[A-Za-z0-9 ._:-]{1,128}$/, { error: SYSCTL_VALUE })], { error: SYSCTL_VALUE });
/** One key once: its two spellings name one setting, and both would be written, the last one winning. */
const SysctlExtra = z.record(SysctlKey, SysctlValue).superRefine((extra, ctx) => {
  const seen = new Map<string, string>();
  for (const key of Object.keys(extra)) {
    const other = seen.get(procPath(key));
    if (other !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `expected each setting once: ${key} is ${other} spelt otherwise (sysctl(8) reads both), and both would be written` });
    else seen.set(procPath(key), key);
  }
});
const PackageName = z.string().regex(/^[a-z0-9][a-z0-9+.-]{0,99}$/, { error: 'expected a Debian or RPM package name' });
const UnitName = z.string().regex(/^[A-Za-z0-9@_.:][A-Za-z0-9@_.:-]{0,99}$/, { error: 'expected a service (unit) name, not starting with "-"' });
/** A template of the project (or built-in), relative to templates/. */
const TemplatePath = z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9_.\/-]*\.hbs$/, { error: 'expected a template path relative to templates/, ending in .hbs' })
  .refine((v) => !v.split('/').includes('..'), { error: 'expected a template path inside templates/ (no "..")' });
const FileMode = z.string().regex(/^0?[0-7]{3}$/, { error: 'expected an octal file mode like "0644"' });

export const TASK_ARGS = {
  /** The sysctls the inventory implies for this host (ARP, rp_filter, ip_forward), plus any extra. */
  sysctl: z.strictObject({ extra: SysctlExtra.default({}), persist: z.boolean().default(true) }),
  /** VIPs the inventory implies: on lo / tunl0 (real servers), on the VIP interface (the primary). */
  address: z.strictObject({}),
  /** Virtual services and real servers lvsplay owns; `purge` also removes undeclared services. */
  ipvs: z.strictObject({
    purge: z.boolean().default(false),
    graceful: z.boolean().default(true),
    /** Graceful removal: seconds to wait, in the same run, for a removed busy real server to go idle before deleting it. */
    drain_wait: z.int().min(0).max(86400).default(30),
    save: z.boolean().default(true),
  }),
  /** What makes the host come back serving after a reboot: modules, the address and IPVS units. */
  boot: z.strictObject({}),
  /** The nftables rules marking the packets of the fwmark services a director carries (their marks:). */
  marks: z.strictObject({}),
  /** ldirectord.cf for the services ldirectord owns, reloaded when it changed. */
  ldirectord: z.strictObject({ reload: z.boolean().default(true) }),
  /**
   * keepalived.conf (the pair's VRRP instance, the services keepalived owns), reloaded when it
   * changed; `step_down`: a backup of a nopreempt pair that is still master restarts it (failover).
   */
  keepalived: z.strictObject({ reload: z.boolean().default(true), step_down: z.boolean().default(false) }),
  /** A file rendered from a template of the project. */
  file: z.strictObject({
    path: RemotePath,
    template: TemplatePath,
    mode: FileMode.default('0644'),
    on_change: z.union([z.strictObject({ reload: UnitName }), z.strictObject({ restart: UnitName })], { error: 'expected { reload: UNIT } or { restart: UNIT }' }).optional(),
  }),
  /**
   * On every director carrying the play's host (a real server): its weight to 0 everywhere
   * (remembered there), then wait for its connections to end, up to `wait` seconds.
   */
  drain: z.strictObject({
    wait: z.int().min(0).max(86400).default(60),
    /** Also wait for InActConn (TIME_WAIT and the like) and persistence templates to go. */
    inactive: z.boolean().default(false),
    persistent: z.boolean().default(false),
    /** At the deadline with connections left: fail (the server stays drained) or go on. */
    at_deadline: z.enum(['fail', 'continue']).default('fail'),
  }),
  /** On every director carrying the play's host: its inventory weights back, the drain forgotten. */
  undrain: z.strictObject({}),
  /** A health gate, from every director carrying the play's host: pass before the play goes on. */
  wait: z.strictObject({
    tcp: z.union([z.literal(true), ConnectPort]).optional(),
    http: z.strictObject({
      port: ConnectPort.optional(),
      path: z.string().regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$/, { error: 'expected a URL path starting with /' }).default('/'),
      status: z.int().min(100).max(599).default(200),
      /** A regular expression the body must match (grep -E on the director): one it compiles, or every retry fails. */
      body: z.string().max(256).regex(/^[^\x00-\x1f\x7f]*$/, { error: 'expected one line of text' })
        .superRefine((v, ctx) => {
          const problem = ereProblem(v);
          if (problem) ctx.addIssue({ code: 'custom', message: `expected a POSIX extended regular expression (grep -E), got ${problem}` });
        }).optional(),
      https: z.boolean().default(false),
    }).optional(),
    dns: z.strictObject({ port: ConnectPort.default(53), name: DnsName }).optional(),
    /** A command run on the director; $LVSPLAY_SERVER and $LVSPLAY_PORT say what to check. */
    command: z.string().min(1).max(4096).regex(/^[^\n\r\0]*$/, { error: 'expected one line of shell (join commands with ; or &&): it runs as one sh -c word' }).optional(),
    interval: z.int().min(1).max(600).default(1),
    retries: z.int().min(1).max(10000).default(30),
    timeout: z.int().min(1).max(600).default(2),
  }),
  package: z.strictObject({ names: z.array(PackageName).min(1), state: z.enum(['present', 'absent']).default('present') }),
  service: z.strictObject({ name: UnitName, state: z.enum(['started', 'stopped']).default('started'), enabled: z.boolean().optional() }),
  /** A user's template, run only when its `check` script exits non-zero. */
  shell: z.strictObject({ template: TemplatePath, check: z.string().min(1).max(4096) }),
} as const;

export type TaskKind = keyof typeof TASK_ARGS;
export const TASK_KINDS = Object.keys(TASK_ARGS) as TaskKind[];
