/**
 * `boot`: what a host needs to come back serving after a reboot with nothing run, in the order it
 * needs it: kernel modules (modules-load.d: ip_vs and the schedulers on a director, ipip on a TUN
 * real server), then sysctls (sysctl.d, the sysctl task's file), then addresses and routes (the
 * lvsplay-network unit: VIPs on lo/tunl0/the VIP interface, the NAT route), then the IPVS services
 * lvsplay owns (the lvsplay-ipvs unit restores lvsplay's own rules file; the lvsplay-marks unit
 * loads the fwmark services' marks, when the director has any), then health checkers
 * (ldirectord, keepalived: their own tasks enable them). Units are enabled, not started: the other
 * tasks set the runtime state. The distribution's IPVS restore (RHEL's ipvsadm.service, Debian's
 * AUTO="true") is turned off: it flushes the table and restores other owners' services.
 * A unit of lvsplay's that the host no longer wants (lvsplay-marks once the last mark is gone,
 * lvsplay-ipvs on a director turned real server) is disabled and its file removed: left, it would
 * load old marks or restore an old rules file at the next boot.
 * A host with `persist: false` keeps nothing; one without systemd cannot persist: an error.
 */
import { membershipsOf, servicesOf } from '../../inventory/model.js';
import type { Change } from '../../plan/types.js';
import { desiredAddresses } from '../address/index.js';
import { desiredMarks } from '../marks/index.js';
import { IPVS_UNIT, LVSPLAY_UNITS, MARKS_FILE, MARKS_UNIT, MODULES_FILE, NETWORK_UNIT, unitPath } from '../../inventory/host-files.js';
import { diffFile, type FileActual, type FileDesired, fileProbe, parseFileProbe } from '../file/index.js';
import { defineResource } from '../resource.js';
import { framed, splitSections } from '../sections.js';

export interface BootDesired {
  persist: boolean;
  files: FileDesired[];
  units: string[];
  /** lvsplay's units this host does not want: retired if the probe finds them. */
  unwanted: string[];
}

export interface BootActual {
  systemd: boolean;
  files: Map<string, FileActual>;
  enabled: Set<string>;
  /** Unwanted units still there (their file, or enabled). */
  leftover: string[];
  distroIpvsadm: boolean;
  debianAuto: boolean;
}

/** A value in a unit file setting: systemd expands %-specifiers there (%n is the unit's name), so a literal % is %%. */
const unitValue = (value: string) => value.replaceAll('%', '%%');

export const boot = defineResource({
  kind: 'boot',
  desired(ctx): BootDesired {
    const host = ctx.host;
    if (!host.persist) return { persist: false, files: [], units: [], unwanted: [] };
    const modules = new Set<string>();
    const files: FileDesired[] = [];
    const units = [NETWORK_UNIT];
    const addresses = desiredAddresses(ctx);
    if (host.kind === 'director') {
      modules.add('ip_vs');
      for (const s of servicesOf(ctx.cluster, host)) modules.add(`ip_vs_${s.scheduler}`);
    } else if (membershipsOf(ctx.cluster, host).some(({ service }) => service.forwarding === 'tun') || addresses.tunnel) {
      modules.add('ipip');
    }
    files.push({ path: MODULES_FILE, mode: '0644', content: ctx.templates.render('boot/modules.conf.hbs', { host: host.name, modules: [...modules].sort() }) });
    files.push({
      path: unitPath(NETWORK_UNIT), mode: '0644',
      content: ctx.templates.render('boot/lvsplay-network.service.hbs', {
        host: host.name, tunnel: addresses.tunnel, gateway: addresses.gateway ?? '',
        addresses: addresses.present.map((a) => ({ cidr: `${a.address}/${a.prefix}`, device: a.device, broadcast: a.broadcast ?? '', label: a.label !== undefined && !a.address.includes(':') ? a.label : '' })),
      }),
    });
    if (host.kind === 'director') {
      units.push(IPVS_UNIT);
      files.push({ path: unitPath(IPVS_UNIT), mode: '0644', content: ctx.templates.render('boot/lvsplay-ipvs.service.hbs', { host: host.name, rules: unitValue(ctx.cluster.rulesFile) }) });
      if (desiredMarks(ctx).file) {
        units.push(MARKS_UNIT);
        files.push({ path: unitPath(MARKS_UNIT), mode: '0644', content: ctx.templates.render('boot/lvsplay-marks.service.hbs', { host: host.name, file: MARKS_FILE }) });
      }
    }
    return { persist: true, files, units, unwanted: LVSPLAY_UNITS.filter((u) => !units.includes(u)) };
  },
  probe(desired, ctx) {
    if (!desired.persist) return ': # boot: this host keeps nothing across reboots (persist: false)\n';
    return framed('state', ctx.templates.render('boot/probe.sh.hbs', { units: desired.units, unwanted: desired.unwanted }))
      + desired.files.map((f, i) => framed(`file${i}`, fileProbe(ctx.templates, f.path, { expected: f.content }))).join('');
  },
  parse(output, desired): BootActual {
    const parts = splitSections(output);
    const state = (parts.get('state') ?? '').split('\n');
    // No facts at all (render): a host with nothing; a real probe always prints its parts.
    const systemd = parts.size === 0 || state.includes('systemd yes');
    if (desired.persist && !systemd) {
      throw new Error('this host does not run systemd, so lvsplay cannot make its state survive a reboot; set persist: false on it if it keeps nothing across reboots (a container, a network namespace)');
    }
    return {
      systemd,
      files: new Map(desired.files.map((f, i) => [f.path, parseFileProbe(parts.get(`file${i}`) ?? '', f.content)])),
      enabled: new Set(state.filter((l) => l.startsWith('enabled ')).map((l) => l.slice(8))),
      leftover: state.filter((l) => l.startsWith('leftover ')).map((l) => l.slice(9)).filter((u) => desired.unwanted.includes(u)),
      distroIpvsadm: state.includes('distro ipvsadm.service'),
      debianAuto: state.includes('distro debian-auto'),
    };
  },
  diff(desired, actual, ctx) {
    if (!desired.persist) return { changes: [], script: '' };
    const changes: Change[] = [];
    const scripts: string[] = [];
    let unitsChanged = false;
    for (const f of desired.files) {
      const written = diffFile(f, actual.files.get(f.path) ?? { present: false }, ctx.templates);
      changes.push(...written.changes);
      if (written.script) scripts.push(written.script);
      if (written.script && f.path.startsWith('/etc/systemd/')) unitsChanged = true;
    }
    const enable = desired.units.filter((u) => !actual.enabled.has(u));
    for (const u of enable) changes.push({ id: `${u} at boot`, action: 'change', summary: `~ ${u} enabled at boot`, before: 'disabled', after: 'enabled' });
    if (actual.distroIpvsadm) changes.push({ id: 'ipvsadm.service', action: 'change', summary: '~ the distribution\'s ipvsadm.service disabled (it restores and saves the whole table, other owners\' services included)' });
    if (actual.debianAuto) changes.push({ id: '/etc/default/ipvsadm', action: 'change', summary: '~ /etc/default/ipvsadm AUTO="true" → "false" (its restore flushes the table first)', before: 'AUTO="true"', after: 'AUTO="false"' });
    const retire = actual.leftover.map((unit) => ({ unit, path: unitPath(unit) }));
    for (const { unit } of retire) changes.push({ id: `${unit} retired`, action: 'delete', summary: `- ${unit} retired: this host no longer needs it (disabled, its unit file removed)` });
    if (unitsChanged || enable.length > 0 || retire.length > 0 || actual.distroIpvsadm || actual.debianAuto) {
      scripts.push(ctx.templates.render('boot/apply.sh.hbs', { daemonReload: unitsChanged || retire.length > 0, enable, retire, disableDistro: actual.distroIpvsadm, debianAuto: actual.debianAuto }));
    }
    return { changes, script: scripts.join('\n') };
  },
});
