/** `package`: distribution packages present or absent (apt on Debian, dnf on RHEL). */
import { defineResource } from '../resource.js';

export interface PackageDesired {
  names: string[];
  state: 'present' | 'absent';
}

export const packages = defineResource({
  kind: 'package',
  desired: (_ctx, args): PackageDesired => ({ names: args.names, state: args.state }),
  probe: (desired, ctx) => ctx.templates.render('package/probe.sh.hbs', { names: desired.names }),
  parse(output): Map<string, boolean> {
    const installed = new Map<string, boolean>();
    for (const line of output.split('\n')) {
      const [name, state] = line.trim().split(' ');
      if (name) installed.set(name, state === 'installed');
    }
    return installed;
  },
  diff(desired, actual, ctx) {
    const wrong = desired.names.filter((n) => (actual.get(n) ?? false) !== (desired.state === 'present'));
    if (wrong.length === 0) return { changes: [], script: '' };
    const add = desired.state === 'present';
    const changes = wrong.map((n) => ({ id: n, action: add ? ('add' as const) : ('delete' as const), summary: `${add ? '+ install' : '- remove'} package ${n}` }));
    return { changes, script: ctx.templates.render('package/apply.sh.hbs', { names: wrong, verb: add ? 'install' : 'remove' }) };
  },
});
