/**
 * `keepalived`: keepalived.conf for this director (its pair's VRRP instance, when the pair fails
 * over by VRRP, and the services keepalived owns here), and the daemon running with it, enabled at
 * boot where systemd runs and the host persists. Built like the ldirectord resource:
 * - The config is written as every file lvsplay writes (file/index.ts), after the installed
 *   keepalived has parsed it (`keepalived -t -e -f`, rc 0) and each check regex compiled as PCRE:
 *   keepalived's reload applies whatever it parsed, so a file it rejects is never installed.
 * - A changed config is applied by reload (SIGHUP), never a restart (a restart drops every
 *   service and, on the master, the VIPs); a stopped daemon is started.
 * - keepalived adopts a service already in the table without correcting it (and deletes it when it
 *   stops): services it takes over are deleted right before its reload or start, so it creates them
 *   as configured (lvsplay's `ipvs` task never touches them: they are not lvsplay's).
 * - Services that leave keepalived (to lvsplay, or gone) are released: keepalived deletes them on
 *   reload; the script waits for that, so the ipvs task that runs next finds them gone.
 * - Nothing left for it (no keepalived service, no VRRP instance): retired (stopped, disabled, its
 *   lvsplay config removed); a config lvsplay did not write is never touched.
 * - The VRRP password (vrrp.<pair>.auth_pass_env / _file) is read on the control host: the file
 *   is then secret (mode 0600 always): never printed, probed by checksum and redacted text only.
 * - `step_down` (failover on a nopreempt pair): a backup that still holds its pair's VIPs restarts
 *   keepalived, since with nopreempt a master keeps the role until it stops.
 */
import type { Cluster, Director } from '../../inventory/model.js';
import { pairAddresses, vrrpOf } from '../../inventory/model.js';
import { canonicalAddress } from '../../inventory/addresses.js';
import type { Change } from '../../plan/types.js';
import type { Templates } from '../../templates/templates.js';
import { readSecret, secretProblem } from '../../util/secret.js';
import { linesFile, ShellFragment } from '../../util/shell.js';
import { contentDiffers, diffFile, type FileActual, type FileDesired, fileProbe, parseFileProbe } from '../file/index.js';
import { keyOf } from '../ipvs/desired.js';
import { printedSpec, serviceKey, serviceSpec } from '../ipvs/forms.js';
import type { ServiceKey } from '../ipvs/table.js';
import { defineResource } from '../resource.js';
import { framed, splitSections } from '../sections.js';
import { checkRegexes, keepalivedConfData, keepalivedServices } from './conf.js';
import { KEEPALIVED_CONF } from '../../inventory/host-files.js';
import { type KeepalivedConfFacts, keepalivedVirtualsProbe, parseKeepalivedVirtuals, REDACT, VRRP_PASS_MAX, writableVrrpPass } from './keys.js';

export { HEADER, REDACT } from './keys.js';
export const PIDFILE = '/run/keepalived.pid';
/** How long a released service may take to disappear (keepalived reloads asynchronously). */
const RELEASE_WAIT_S = 30;

export interface KeepalivedDesired {
  config: string;
  pidfile: string;
  /** Undefined when nothing is keepalived's on this host: then only retirement can happen. */
  file?: FileDesired;
  /** The services of the new config: key (`tcp 192.0.2.10:80`) and ServiceKey. */
  services: { key: string; service: ServiceKey }[];
  reload: boolean;
  /** `step_down` on a backup of a nopreempt VRRP pair: the addresses whose presence here means it is still master. */
  stepDown?: string[];
}

export interface KeepalivedActual {
  file: FileActual;
  /** What the config on the host says: lvsplay's or not, and its services. */
  conf: KeepalivedConfFacts;
  daemon: 'running' | 'stopped' | 'missing';
  systemd: boolean;
  enabled: boolean;
  /** Service keys in the kernel's table now (firewall marks in both families: /proc/net/ip_vs does not say). */
  live: Set<string>;
  /** Addresses on this host (probed only for step_down). */
  addresses: Set<string>;
}

function authPass(cluster: Cluster, director: Director): string | undefined {
  const vrrp = vrrpOf(cluster, director);
  if (!vrrp?.auth) return undefined;
  const field = `vrrp.${vrrp.pair}.${'env' in vrrp.auth ? 'auth_pass_env' : 'auth_pass_file'}`;
  const value = readSecret(vrrp.auth, { file: cluster.file, field });
  if (value.length > VRRP_PASS_MAX || !writableVrrpPass(value)) {
    throw secretProblem(vrrp.auth, { file: cluster.file, field }, `expected a VRRP password of 1 to ${VRRP_PASS_MAX} printable characters without spaces, quotes, backslashes, "#", "!", "$", "{" or "}" (keepalived uses ${VRRP_PASS_MAX} at most, and reads the rest as syntax)`);
  }
  return value;
}

export const keepalived = defineResource({
  kind: 'keepalived',
  desired(ctx, args): KeepalivedDesired {
    const base = { config: KEEPALIVED_CONF, pidfile: PIDFILE, services: [], reload: args.reload };
    if (ctx.host.kind !== 'director') return base;
    const director = ctx.host;
    const services = keepalivedServices(ctx.cluster, director);
    const vrrp = vrrpOf(ctx.cluster, director);
    const held = vrrp ? pairAddresses(ctx.cluster, director.pair) : undefined;
    const hasInstance = held !== undefined && (held.vips.length > 0 || held.natGateway !== undefined);
    if (services.length === 0 && !hasInstance) return base;
    const pass = hasInstance ? authPass(ctx.cluster, director) : undefined;
    const content = ctx.templates.render('keepalived/keepalived.conf.hbs', keepalivedConfData(ctx.cluster, director, pass));
    const verify = new ShellFragment(ctx.templates.render('keepalived/verify.sh.hbs', { regexes: checkRegexes(services) }));
    const stepDown = args.step_down && vrrp?.nopreempt && director.role === 'backup' && held
      ? [...held.vips, ...(held.natGateway ? [held.natGateway.address] : [])] : undefined;
    return {
      ...base,
      file: { path: KEEPALIVED_CONF, content, mode: '0600', verify, ...(pass !== undefined && { secret: { redact: REDACT } }) },
      services: services.map((s) => ({ key: serviceKey(keyOf(s)), service: keyOf(s) })),
      ...(stepDown && stepDown.length > 0 && { stepDown }),
    };
  },
  probe(desired, ctx) {
    // The config is always probed as a secret: the one on the host may hold a password even when the new one has none.
    const file = desired.file ? framed('file', fileProbe(ctx.templates, desired.config, { secret: { redact: REDACT } })) : '';
    return file
      + framed('conf', keepalivedVirtualsProbe(ctx.templates))
      + framed('daemon', ctx.templates.render('keepalived/probe.sh.hbs', { pidfile: desired.pidfile }))
      + (desired.file ? framed('live', ctx.templates.render('keepalived/live.sh.hbs', {})) : '')
      + (desired.stepDown ? framed('addr', 'ip -o addr show') : '');
  },
  parse(output): KeepalivedActual {
    const parts = splitSections(output);
    const field = (name: string) => (parts.get('daemon') ?? '').split('\n').find((l) => l.startsWith(`${name} `))?.slice(name.length + 1).trim();
    const daemon = field('daemon');
    return {
      file: parseFileProbe(parts.get('file') ?? ''),
      conf: parseKeepalivedVirtuals(parts.get('conf') ?? ''),
      // No facts at all (render): a host where it is installed and stopped.
      daemon: daemon === 'running' || daemon === 'missing' ? daemon : 'stopped',
      systemd: field('systemd') === 'yes',
      enabled: field('enabled') === 'yes',
      live: parseProcIpvs(parts.get('live') ?? ''),
      addresses: new Set((parts.get('addr') ?? '').split('\n').flatMap((l) => {
        const w = l.trim().split(/\s+/);
        return (w[2] === 'inet' || w[2] === 'inet6') && w[3] ? [canonicalAddress(w[3].split('/')[0]!)] : [];
      })),
    };
  },
  diff(desired, actual, ctx) {
    const wanted = new Set(desired.services.map((s) => s.key));
    // What keepalived runs now and will no longer have: released (it deletes them on reload or stop).
    const released = [...actual.conf.keys].filter(([key]) => !wanted.has(key)).map(([, k]) => k);
    if (!desired.file) return retire(desired, actual, released, ctx.templates);
    if (actual.daemon === 'missing') throw new Error('keepalived is not installed on this director (install the keepalived package first)');
    const changes: Change[] = [];
    const scripts: string[] = [];
    if (actual.systemd && ctx.host.persist && !actual.enabled) {
      changes.push({ id: 'keepalived at boot', action: 'change', summary: '~ keepalived enabled at boot', before: 'disabled', after: 'enabled' });
      scripts.push(control(ctx.templates, ['enable']));
    }
    const written = diffFile(desired.file, actual.file, ctx.templates);
    changes.push(...written.changes);
    if (written.script) scripts.push(written.script);
    const changed = contentDiffers(desired.file, actual.file);
    const stopped = actual.daemon === 'stopped';
    const applies = stopped || (changed && desired.reload);
    if (applies) {
      // A running keepalived already owns what its current config lists; a stopped one owns nothing yet.
      const owned = stopped ? new Set<string>() : new Set(actual.conf.keys.keys());
      const taken = desired.services.filter((s) => !owned.has(s.key) && actual.live.has(s.key));
      for (const s of taken) changes.push({ id: s.key, action: 'change', summary: `~ keepalived takes over ${s.key} (deleted first: keepalived would adopt the existing service as it is)` });
      if (taken.length > 0) scripts.push(ctx.templates.render('keepalived/takeover.sh.hbs', { specs: taken.map((s) => checkedSpec(serviceSpec(s.service))) }));
    }
    // A nopreempt master that must step down is restarted (its start reads the new file): no reload before that.
    const stepDown = desired.stepDown !== undefined && desired.stepDown.some((a) => actual.addresses.has(a)) && !stopped;
    if (stopped) {
      changes.push({ id: 'keepalived', action: 'change', summary: '~ keepalived stopped → running', before: 'stopped', after: 'running' });
      scripts.push(control(ctx.templates, ['start']));
    } else if (changed && desired.reload && !stepDown) {
      scripts.push(control(ctx.templates, ['reload']));
    }
    if (stepDown) {
      const vrrp = ctx.host.kind === 'director' ? vrrpOf(ctx.cluster, ctx.host) : undefined;
      changes.push({ id: `${vrrp?.instance ?? 'vrrp'} mastership`, action: 'change', summary: `~ keepalived gives up VRRP mastership of ${vrrp?.instance ?? 'its instance'} (restarted: with nopreempt a master keeps the role until it stops)`, before: 'master', after: 'backup' });
      scripts.push(control(ctx.templates, ['restart']));
    }
    if (released.length > 0 && applies) scripts.push(release(ctx.templates, released, stopped ? 0 : RELEASE_WAIT_S));
    return { changes, script: changes.length === 0 ? '' : scripts.join('\n'), ...(written.secrets && { secrets: written.secrets }) };
  },
});

function control(templates: Templates, verbs: string[]): string {
  return templates.render('keepalived/control.sh.hbs', { config: KEEPALIVED_CONF, pidfile: PIDFILE, verbs });
}

/** An ipvsadm service spec lvsplay made from a validated key (`-t 192.0.2.10:80`, `-f 5 -6`), as shell words. */
function checkedSpec(spec: string): ShellFragment {
  if (!/^(-t|-u|-f|--sctp-service) [0-9A-Fa-f.:[\]-]+( -6)?$/.test(spec)) throw new Error(`unexpected service spec ${spec}`);
  return new ShellFragment(spec);
}

function release(templates: Templates, keys: ServiceKey[], seconds: number): string {
  const specs = keys.map(printedSpec);
  specs.forEach(checkedSpec);
  return templates.render('keepalived/release.sh.hbs', { seconds, specs: linesFile('"$lvsplay_released"', specs) });
}

/** Nothing is keepalived's here any more: stop and disable it, remove its config, if that config is lvsplay's. */
function retire(desired: KeepalivedDesired, actual: KeepalivedActual, released: ServiceKey[], templates: Templates): { changes: Change[]; script: string } {
  if (!actual.conf.ours) return { changes: [], script: '' };
  const changes: Change[] = [{ id: desired.config, action: 'delete', summary: `- keepalived retired: no service or VRRP instance is its own any more (stopped, disabled, ${desired.config} removed)`, secret: true }];
  const installed = actual.daemon !== 'missing';
  const verbs = [...(actual.daemon === 'running' ? ['stop'] : []), ...(installed && actual.systemd && actual.enabled ? ['disable'] : [])];
  const script = [
    verbs.length > 0 ? control(templates, verbs) : '',
    templates.render('keepalived/retire.sh.hbs', { config: desired.config }),
    // keepalived deletes its services as it stops; any left (it was not running) go now.
    released.length > 0 && installed ? release(templates, released, 0) : '',
  ].filter((s) => s !== '').join('\n');
  return { changes, script };
}

/**
 * /proc/net/ip_vs service lines as keys: `TCP  C000020A:0050 rr`, `UDP  [2001:0db8:...:0010]:0035 wlc`,
 * `FWM  00000005 rr` (a mark's family is not shown: both are listed, and deleting the absent one is harmless).
 */
export function parseProcIpvs(text: string): Set<string> {
  const keys = new Set<string>();
  for (const line of text.split('\n')) {
    const [proto, target] = line.trim().split(/\s+/);
    if (!proto || !target) continue;
    if (proto === 'FWM') {
      const mark = Number.parseInt(target, 16);
      if (Number.isFinite(mark)) for (const family of ['ipv4', 'ipv6'] as const) keys.add(serviceKey({ kind: 'fwmark', fwmark: mark, family }));
      continue;
    }
    const protocol = proto.toLowerCase();
    if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') continue;
    const v6 = /^\[([0-9a-fA-F:]+)\]:([0-9A-Fa-f]{4})$/.exec(target);
    const v4 = /^([0-9A-Fa-f]{8}):([0-9A-Fa-f]{4})$/.exec(target);
    let address: string | undefined;
    let port: string | undefined;
    if (v6) [address, port] = [canonicalAddress(v6[1]!), v6[2]];
    else if (v4) {
      const n = Number.parseInt(v4[1]!, 16);
      address = [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
      port = v4[2];
    }
    if (address === undefined || port === undefined) continue;
    keys.add(serviceKey({ kind: 'inet', protocol, address, port: Number.parseInt(port, 16) }));
  }
  return keys;
}
