/**
 * `ldirectord`: ldirectord.cf for the services ldirectord owns on this director, and the daemon
 * running with it. A changed file is reloaded, not restarted: a restart drops and re-adds every
 * real server. The file is written with the same atomic write as any other (file/index.ts).
 */
import { hostPort } from '../../inventory/addresses.js';
import type { Director, LdirectordGlobals, Service } from '../../inventory/model.js';
import { servicesOf } from '../../inventory/model.js';
import type { Change } from '../../plan/types.js';
import { diffFile, type FileActual, type FileDesired, fileProbe, parseFileProbe } from '../file/index.js';
import { defineResource } from '../resource.js';
import { ShellFragment } from '../../util/shell.js';
import { framed, splitSections } from '../sections.js';

export interface LdirectordDesired {
  /** Undefined on hosts with no ldirectord services: the resource leaves them alone. */
  file?: FileDesired;
  config: string;
}

export interface LdirectordActual {
  file: FileActual;
  daemon: 'running' | 'stopped' | 'missing';
}

const METHOD = { dr: 'gate', tun: 'ipip', nat: 'masq' } as const;

/** The data the ldirectord.cf template renders, one entry per service. */
export function ldirectordServices(services: Service[]): object[] {
  return services.map((s) => {
    const v6 = s.family === 'ipv6' ? '6' : '';
    return {
      name: s.name,
      virtualKey: `virtual${v6}`,
      virtual: s.protocol === 'fwmark' ? String(s.fwmark) : hostPort(s.vip!, s.port),
      reals: s.realServers.map((m) => ({ key: `real${v6}`, address: hostPort(m.address, s.protocol === 'fwmark' ? undefined : m.port), method: METHOD[s.forwarding], weight: m.weight })),
      fallbackKey: `fallback${v6}`,
      fallback: s.fallback ? `${hostPort(s.fallback.address, s.fallback.port)} ${METHOD[s.fallback.forwarding]}` : '',
      scheduler: s.scheduler,
      protocol: s.protocol === 'fwmark' ? 'fwm' : s.protocol,
      persistent: s.persistence?.timeoutS ?? '',
      netmask: s.persistence?.netmask ?? '',
      check: s.healthCheck ?? { type: 'off' },
      hasQuiescent: s.healthCheck?.quiescent !== undefined,
    };
  });
}

export function renderLdirectordConf(render: (name: string, data: object) => string, director: Director, globals: LdirectordGlobals, services: Service[]): string {
  const fork = services.some((s) => s.healthCheck?.intervalS !== undefined);
  return render('ldirectord/ldirectord.cf.hbs', { director: director.name, g: globals, fork, services: ldirectordServices(services) });
}

export const ldirectord = defineResource({
  kind: 'ldirectord',
  desired(ctx, args): LdirectordDesired {
    const config = ctx.cluster.ldirectord.configFile;
    if (ctx.host.kind !== 'director') return { config };
    const services = servicesOf(ctx.cluster, ctx.host).filter((s) => s.managedBy === 'ldirectord');
    if (services.length === 0) return { config };
    const content = renderLdirectordConf((n, d) => ctx.templates.render(n, d), ctx.host, ctx.cluster.ldirectord, services);
    const onChange = args.reload ? new ShellFragment(ctx.templates.render('ldirectord/reload.sh.hbs', { config })) : undefined;
    return { config, file: { path: config, content, mode: '0644', ...(onChange && { onChange }) } };
  },
  probe(desired, ctx) {
    if (!desired.file) return '';
    return framed('file', fileProbe(ctx.templates, desired.file.path)) + framed('daemon', ctx.templates.render('ldirectord/probe.sh.hbs', { config: desired.config }));
  },
  parse(output): LdirectordActual {
    const parts = splitSections(output);
    const daemon = (parts.get('daemon') ?? '').trim();
    return { file: parseFileProbe(parts.get('file') ?? ''), daemon: daemon === 'running' || daemon === 'missing' ? daemon : 'stopped' };
  },
  diff(desired, actual, ctx) {
    if (!desired.file) return { changes: [], script: '' };
    if (actual.daemon === 'missing') throw new Error('ldirectord is not installed on this director (install the ldirectord package first)');
    const written = diffFile(desired.file, actual.file, ctx.templates);
    const changes: Change[] = [...written.changes];
    const scripts = [written.script];
    // A changed file already starts a stopped daemon in its reload action.
    if (actual.daemon === 'stopped') {
      changes.push({ id: 'ldirectord', action: 'change', summary: '~ ldirectord stopped → running', before: 'stopped', after: 'running' });
      if (written.changes.length === 0 || desired.file.onChange === undefined) scripts.push(ctx.templates.render('ldirectord/start.sh.hbs', { config: desired.config }));
    }
    return { changes, script: scripts.filter((s) => s !== '').join('\n') };
  },
});
