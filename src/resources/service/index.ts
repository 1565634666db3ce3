/** `service`: a system service started or stopped, and enabled or not at boot (systemd or SysV). */
import type { Change } from '../../plan/types.js';
import { defineResource } from '../resource.js';

/** systemctl is-enabled answers that mean the unit starts (or cannot be enabled more). */
const ENABLED = new Set(['enabled', 'enabled-runtime', 'static', 'indirect', 'alias', 'generated']);

export interface ServiceDesired {
  unit: string;
  state: 'started' | 'stopped';
  enabled?: boolean;
}

export const service = defineResource({
  kind: 'service',
  desired: (_ctx, args): ServiceDesired => ({ unit: args.name, state: args.state, ...(args.enabled !== undefined && { enabled: args.enabled }) }),
  probe: (desired, ctx) => ctx.templates.render('service/probe.sh.hbs', { unit: desired.unit }),
  parse(output): { active: boolean; enabled: boolean } {
    const field = (name: string) => output.split('\n').find((l) => l.startsWith(`${name} `))?.slice(name.length + 1).trim();
    // `static`, `indirect` and the like cannot be enabled further: treat them as enabled, or a run never settles.
    return { active: field('active') === 'active', enabled: ENABLED.has(field('enabled') ?? '') };
  },
  diff(desired, actual, ctx) {
    const changes: Change[] = [];
    const scripts: string[] = [];
    const wantActive = desired.state === 'started';
    if (actual.active !== wantActive) {
      const verb = wantActive ? 'start' : 'stop';
      changes.push({ id: desired.unit, action: 'change', summary: `~ service ${desired.unit} ${actual.active ? 'running' : 'stopped'} → ${desired.state}` });
      scripts.push(ctx.templates.render('service/action.sh.hbs', { unit: desired.unit, verb }));
    }
    if (desired.enabled !== undefined && actual.enabled !== desired.enabled) {
      const verb = desired.enabled ? 'enable' : 'disable';
      changes.push({ id: `${desired.unit} at boot`, action: 'change', summary: `~ service ${desired.unit} ${verb}d at boot` });
      scripts.push(ctx.templates.render('service/enable.sh.hbs', { unit: desired.unit, verb }));
    }
    return { changes, script: scripts.join('\n') };
  },
});
