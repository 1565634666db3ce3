/**
 * `shell`: a user's own Handlebars template, run only when its `check:` script exits non-zero.
 * The check runs in the probe, so it must only look, never change anything; it is what makes a
 * shell task idempotent and visible in --check. The template is a shell template whatever its
 * name (templates/shell-check.ts), and both it and the check see the vars as $LVSPLAY_VAR_<name>.
 */
import { ShellFragment, shq, varsPrologue } from '../../util/shell.js';
import { templateData } from '../file/index.js';
import { defineResource } from '../resource.js';

export interface ShellDesired {
  template: string;
  script: string;
  /** `sh -c '<prologue><check>'`: the check as one command, vars set. */
  check: ShellFragment;
}

export const shell = defineResource({
  kind: 'shell',
  desired(ctx, args): ShellDesired {
    const prologue = varsPrologue(ctx.vars);
    const script = prologue + ctx.templates.renderChosen(args.template, templateData(ctx), 'shell');
    return { template: args.template, script, check: new ShellFragment(`sh -c ${shq(prologue + args.check)}`) };
  },
  probe: (desired, ctx) => ctx.templates.render('shell/probe.sh.hbs', { template: desired.template, check: desired.check }),
  parse: (output) => ({ done: output.trim() === 'done' }),
  diff(desired, actual) {
    if (actual.done) return { changes: [], script: '' };
    return { changes: [{ id: desired.template, action: 'change', summary: `~ run ${desired.template} (its check failed)`, after: desired.script }], script: desired.script };
  },
});
