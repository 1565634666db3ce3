/**
 * `shell`: a user's own Handlebars template, run only when its `check:` script exits non-zero.
 * The check runs in the probe, so it must only look, never change anything; it is what makes a
 * shell task idempotent and visible in --check.
 */
import { defineResource } from '../resource.js';
import { templateData } from '../file/index.js';

export interface ShellDesired {
  template: string;
  script: string;
  check: string;
}

export const shell = defineResource({
  kind: 'shell',
  desired: (ctx, args): ShellDesired => ({ template: args.template, script: ctx.templates.render(args.template, templateData(ctx)), check: args.check }),
  probe: (desired, ctx) => ctx.templates.render('shell/probe.sh.hbs', { template: desired.template, check: desired.check }),
  parse: (output) => ({ done: output.trim() === 'done' }),
  diff(desired, actual) {
    if (actual.done) return { changes: [], script: '' };
    return { changes: [{ id: desired.template, action: 'change', summary: `~ run ${desired.template} (its check failed)`, after: desired.script }], script: desired.script };
  },
});
