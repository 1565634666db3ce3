/**
 * `ldirectord`: ldirectord.cf for the services ldirectord owns on this director, and the daemon
 * running with it (and enabled at boot where systemd runs, through a drop-in naming lvsplay's
 * config). Like every file lvsplay writes (file/index.ts), with one more step: the installed
 * ldirectord reads the new config, and perl compiles each receive regex, before it replaces the
 * old one, so a config ldirectord rejects is never installed.
 * - A changed config is reloaded, not restarted (a restart drops and re-adds every real server).
 * - Services that leave ldirectord (to lvsplay, or gone) are released: ldirectord deletes them on
 *   reload; the script waits for that, so a task that takes them over later in the same run finds
 *   them gone (ipvs plans them as new).
 * - The last service gone: ldirectord is retired (stopped, disabled, its lvsplay config removed);
 *   a config lvsplay did not write is never touched.
 */
import { basename } from 'node:path';
import { hostPort } from '../../inventory/addresses.js';
import { LDIRECTORD_DROP_IN } from '../../inventory/host-files.js';
import type { Cluster, Director, LdirectordGlobals, Service } from '../../inventory/model.js';
import { servicesOf } from '../../inventory/model.js';
import type { Change } from '../../plan/types.js';
import type { Templates } from '../../templates/templates.js';
import { readSecret, Secret, secretProblem, secretToken } from '../../util/secret.js';
import { linesFile, ShellFragment } from '../../util/shell.js';
import { diffFile, type FileActual, type FileDesired, fileProbe, parseFileProbe, sha256 } from '../file/index.js';
import { keyOf } from '../ipvs/desired.js';
import { printedSpec } from '../ipvs/forms.js';
import { ldirectordKeys, REDACT } from '../ipvs/ldirectord-keys.js';
import { defineResource, type HostContext } from '../resource.js';
import { drainedProbe, parseDrained, withDrained } from '../drained.js';
import { framed, splitSections } from '../sections.js';

/** What ldirectord can read back as a password: its parser cuts a line at `#`, and the value is in double quotes. */
const PASSWD = /^[^"#\x00-\x1f\x7f]{1,512}$/;

/** The first line of every ldirectord.cf lvsplay writes: how it knows a config is its own. */
export const HEADER = '# Managed by lvsplay';
/** The systemd drop-in that makes the packaged unit run ldirectord with lvsplay's config. */
/** How long a released service may take to disappear (ldirectord reloads asynchronously). */
const RELEASE_WAIT_S = 30;

export interface LdirectordDesired {
  config: string;
  /** ldirectord's pid file when started as `ldirectord CONFIG start` (the drop-in does the same). */
  pidfile: string;
  /** Undefined on hosts with no ldirectord services: then only retirement can happen. */
  file?: FileDesired;
  dropIn?: FileDesired;
  /** Printed specs (`-t 192.0.2.14:80`) of the services in the new config. */
  keys: string[];
  /** ldirectord's services on this director, to render the config again with drained servers at weight 0. */
  services?: Service[];
  /** Their checks' passwords, by service name (read on the control host; never printed). */
  passwords?: ReadonlyMap<string, Secret>;
}

export interface LdirectordActual {
  file: FileActual;
  /** Real servers drained on this director (lvsplay's record): weight 0 in the config. */
  drained: Set<string>;
  dropIn: FileActual;
  daemon: 'running' | 'stopped' | 'missing';
  systemd: boolean;
  enabled: boolean;
}

const METHOD = { dr: 'gate', tun: 'ipip', nat: 'masq' } as const;

/** The data the ldirectord.cf template renders, one entry per service. */
export function ldirectordServices(services: Service[], passwords: ReadonlyMap<string, Secret> = new Map()): object[] {
  return services.map((s) => {
    const v6 = s.family === 'ipv6' ? '6' : '';
    return {
      name: s.name,
      virtualKey: `virtual${v6}`,
      virtual: s.protocol === 'fwmark' ? String(s.fwmark) : hostPort(s.vip!, s.port),
      reals: s.realServers.map((m) => ({
        key: `real${v6}`, address: hostPort(m.address, s.protocol === 'fwmark' ? undefined : m.port), method: METHOD[s.forwarding], weight: m.weight,
        lower: m.lowerThreshold, upper: m.upperThreshold,
      })),
      fallbackKey: `fallback${v6}`,
      fallback: s.fallback ? `${hostPort(s.fallback.address, s.fallback.port)} ${METHOD[s.fallback.forwarding]}` : '',
      scheduler: s.scheduler,
      schedflags: s.schedulerFlags.join(','),
      protocol: s.protocol === 'fwmark' ? 'fwm' : s.protocol,
      ops: s.onePacket && s.protocol === 'udp',
      persistent: s.persistence?.timeoutS ?? '',
      netmask: s.persistence?.netmask ?? '',
      check: s.healthCheck ?? { type: 'off' },
      passwd: passwords.get(s.name)?.reveal() ?? '',
      hasQuiescent: s.healthCheck?.quiescent !== undefined,
    };
  });
}

export function renderLdirectordConf(render: (name: string, data: object) => string, director: Director, globals: LdirectordGlobals, services: Service[], passwords?: ReadonlyMap<string, Secret>): string {
  const fork = services.some((s) => s.healthCheck?.intervalS !== undefined);
  return render('ldirectord/ldirectord.cf.hbs', { director: director.name, g: globals, fork, services: ldirectordServices(services, passwords) });
}

/** The checks' passwords of these services, read on the control host (a bad one is bad input, said without it). */
function checkPasswords(cluster: Cluster, services: readonly Service[]): Map<string, Secret> {
  const passwords = new Map<string, Secret>();
  for (const s of services) {
    const source = s.healthCheck?.passwd;
    if (!source) continue;
    // named by the service: its index in the file may differ from the run's (ports, vips)
    const field = `service ${s.name}: health_check.${'env' in source ? 'passwd_env' : 'passwd_file'}`;
    const value = readSecret(source, { file: cluster.file, field });
    if (!PASSWD.test(value)) {
      throw secretProblem(source, { file: cluster.file, field }, 'expected a check password of 1 to 512 characters without double quotes, "#" or control characters (ldirectord cuts a line at "#" and reads the value in double quotes)');
    }
    passwords.set(s.name, new Secret(secretToken(`ldirectord-passwd:${s.name}`), value));
  }
  return passwords;
}

/** The ldirectord.cf the desired state writes with `drained` at weight 0 (undefined: no config). */
export function ldirectordContent(desired: LdirectordDesired, drained: ReadonlySet<string>, ctx: HostContext): string | undefined {
  return drainedDesired(desired, drained, ctx).file?.content;
}

export const ldirectord = defineResource({
  kind: 'ldirectord',
  desired(ctx, args): LdirectordDesired {
    const config = ctx.cluster.ldirectord.configFile;
    const pidfile = `/run/ldirectord.${basename(config)}.pid`;
    const services = ctx.host.kind === 'director' ? servicesOf(ctx.cluster, ctx.host).filter((s) => s.managedBy === 'ldirectord') : [];
    if (ctx.host.kind !== 'director' || services.length === 0) return { config, pidfile, keys: [] };
    const passwords = checkPasswords(ctx.cluster, services);
    const content = renderLdirectordConf((n, d) => ctx.templates.render(n, d), ctx.host, ctx.cluster.ldirectord, services, passwords);
    const regexes = [...new Set(services.flatMap((s) => (s.healthCheck?.receive ? [s.healthCheck.receive] : [])))];
    const verify = new ShellFragment(ctx.templates.render('ldirectord/verify.sh.hbs', { regexes }));
    const onChange = args.reload ? new ShellFragment(control(ctx.templates, config, pidfile, ['reload'], false)) : undefined;
    return {
      config, pidfile,
      file: { path: config, content, mode: '0600', verify, ...(onChange && { onChange }), ...(passwords.size > 0 && { secret: { redact: REDACT } }) },
      dropIn: { path: LDIRECTORD_DROP_IN, content: ctx.templates.render('ldirectord/ldirectord.service.conf.hbs', { config, pidfile }), mode: '0644' },
      keys: services.map((s) => printedSpec(keyOf(s))),
      services,
      ...(passwords.size > 0 && { passwords }),
    };
  },
  probe(desired, ctx) {
    // always with its secret lines cut: the file on the host may hold a password even when the new one has none
    return framed('file', fileProbe(ctx.templates, desired.config, { secret: { redact: REDACT } }))
      + framed('dropin', fileProbe(ctx.templates, LDIRECTORD_DROP_IN, { ...(desired.dropIn && { expected: desired.dropIn.content }) }))
      + framed('daemon', ctx.templates.render('ldirectord/probe.sh.hbs', { running: running(ctx.templates, desired.pidfile) }))
      + framed('drained', drainedProbe(ctx.templates, ctx.cluster));
  },
  parse(output, desired): LdirectordActual {
    const parts = splitSections(output);
    const field = (name: string) => (parts.get('daemon') ?? '').split('\n').find((l) => l.startsWith(`${name} `))?.slice(name.length + 1).trim();
    const daemon = field('daemon');
    return {
      file: parseFileProbe(parts.get('file') ?? ''),
      drained: parseDrained(parts.get('drained')),
      dropIn: parseFileProbe(parts.get('dropin') ?? '', desired.dropIn?.content),
      daemon: daemon === 'running' || daemon === 'missing' ? daemon : 'stopped',
      systemd: field('systemd') === 'yes',
      enabled: field('enabled') === 'yes',
    };
  },
  diff(given, actual, ctx) {
    const desired = drainedDesired(given, actual.drained, ctx);
    // What ldirectord runs now and will no longer have: released (it deletes them on reload).
    const now = actual.file.present ? [...ldirectordKeys(actual.file.content).values()].map(printedSpec) : [];
    const released = now.filter((spec) => !desired.keys.includes(spec));
    if (!desired.file) return retire(desired, actual, released, ctx.templates);
    if (actual.daemon === 'missing') throw new Error('ldirectord is not installed on this director (install the ldirectord package first)');
    const changes: Change[] = [];
    const scripts: string[] = [];
    // systemd first: the unit must run lvsplay's config before anything starts it.
    if (actual.systemd) {
      const dropIn = diffFile(desired.dropIn!, actual.dropIn, ctx.templates);
      changes.push(...dropIn.changes);
      const boot = ctx.host.persist && !actual.enabled;
      const verbs = boot ? ['enable'] : [];
      if (boot) changes.push({ id: 'ldirectord at boot', action: 'change', summary: '~ ldirectord enabled at boot', before: 'disabled', after: 'enabled' });
      if (dropIn.script || verbs.length > 0) scripts.push(dropIn.script, control(ctx.templates, desired.config, desired.pidfile, verbs, dropIn.script !== ''));
    }
    const written = diffFile(checkedUnlessWeightsOnly(desired.file, actual), actual.file, ctx.templates);
    changes.push(...written.changes);
    scripts.push(written.script);
    // A changed config starts a stopped daemon in its reload action; an unchanged one just starts.
    if (actual.daemon === 'stopped') {
      changes.push({ id: 'ldirectord', action: 'change', summary: '~ ldirectord stopped → running', before: 'stopped', after: 'running' });
      if (written.changes.length === 0 || !desired.file.onChange) scripts.push(control(ctx.templates, desired.config, desired.pidfile, ['start'], false));
    }
    if (released.length > 0 && written.changes.length > 0) scripts.push(release(ctx.templates, released));
    return { changes, script: changes.length === 0 ? '' : scripts.filter((s) => s !== '').join('\n'), ...(written.secrets && { secrets: written.secrets }) };
  },
});

/** A real= line of the config lvsplay renders: what comes before its weight, the weight, the rest. */
const REAL_LINE = /^(\s*real6?=\S+ (?:gate|masq|ipip) )(\d+)(.*)$/;

/**
 * The new config without its check (`ldirectord CONFIG status`: seconds of perl on a small
 * director, paid twice by every drain and undrain) when it is the running daemon's config but
 * for real servers' weights: a drain, an undrain, a weight edited in the inventory. A weight is a
 * number ldirectord always reads, so its verdict on the new config is the one it gave the config
 * it runs. "The same but for weights" is decided on the host's checksum, with the host's weights
 * put into the new text, so a config probed redacted (a check password) is compared whole too.
 */
function checkedUnlessWeightsOnly(file: FileDesired, actual: LdirectordActual): FileDesired {
  if (!file.verify || actual.daemon !== 'running' || !actual.file.present) return file;
  const theirs = actual.file.content.split('\n');
  const ours = file.content.split('\n');
  if (theirs.length !== ours.length) return file;
  const reweighted = ours.map((line, i) => {
    const mine = REAL_LINE.exec(line);
    const host = mine && REAL_LINE.exec(theirs[i]!);
    return mine && host && host[1] === mine[1] && host[3] === mine[3] ? `${mine[1]}${host[2]}${mine[3]}` : line;
  });
  if (sha256(reweighted.join('\n')) !== actual.file.sha256) return file;
  const { verify: _checked, ...unchecked } = file;
  return unchecked;
}

/** The config with the servers drained on this director at weight 0 (quiescent: their connections go on). */
function drainedDesired(desired: LdirectordDesired, drained: ReadonlySet<string>, ctx: HostContext): LdirectordDesired {
  if (!desired.file || !desired.services || ctx.host.kind !== 'director') return desired;
  if (!desired.services.some((s) => s.realServers.some((m) => drained.has(m.address)))) return desired;
  const content = renderLdirectordConf((n, d) => ctx.templates.render(n, d), ctx.host, ctx.cluster.ldirectord, withDrained(desired.services, drained), desired.passwords);
  return { ...desired, file: { ...desired.file, content } };
}

function control(templates: Templates, config: string, pidfile: string, verbs: string[], daemonReload: boolean): string {
  return templates.render('ldirectord/control.sh.hbs', { config, running: running(templates, pidfile), verbs, daemonReload });
}

/** `lvsplay_running`, one definition for the probe and the control script: they must agree on what running is. */
function running(templates: Templates, pidfile: string): ShellFragment {
  return new ShellFragment(templates.render('ldirectord/running.sh.hbs', { pidfile }));
}

function release(templates: Templates, specs: string[]): string {
  for (const spec of specs) if (!/^(-t|-u|-f) \S+( -6)?$/.test(spec)) throw new Error(`unexpected service spec ${spec}`);
  return templates.render('ldirectord/release.sh.hbs', { seconds: RELEASE_WAIT_S, specs: linesFile('"$lvsplay_released"', specs) });
}

/** No ldirectord service left here: stop and disable it, remove its config, if that config is lvsplay's. */
function retire(desired: LdirectordDesired, actual: LdirectordActual, released: string[], templates: Templates): { changes: Change[]; script: string } {
  if (!actual.file.present || !actual.file.content.startsWith(HEADER)) return { changes: [], script: '' };
  const changes: Change[] = [{ id: desired.config, action: 'delete', summary: `- ldirectord retired: no service is its own any more (stopped, disabled, ${desired.config} removed)`, before: actual.file.content, after: '' }];
  const verbs = [...(actual.daemon === 'running' ? ['stop'] : []), ...(actual.systemd && actual.enabled ? ['disable'] : [])];
  const script = [
    verbs.length > 0 ? control(templates, desired.config, desired.pidfile, verbs, false) : '',
    templates.render('ldirectord/retire.sh.hbs', { config: desired.config, dropIn: actual.dropIn.present ? LDIRECTORD_DROP_IN : '' }),
    released.length > 0 ? release(templates, released) : '',
  ].filter((s) => s !== '').join('\n');
  return { changes, script };
}
