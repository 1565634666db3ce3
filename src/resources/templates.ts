/**
 * Handlebars templates for shell and config files. Compiled once each, with `noEscape` (HTML
 * escaping is wrong for shell) and `strict` (a missing value is an error, not an empty string).
 * Values reach a shell only through the `q` helper, which single-quotes them.
 *
 * Lookup: a project's own `templates/` (the overrides) first, then the built-in ones, by the same
 * relative path, so a site can replace any template without forking lvsplay.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { shq } from '../util/shell.js';

/** The package's own templates/ folder (this file is dist/src/resources/templates.js). */
export const BUILTIN_TEMPLATES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../templates');

export class Templates {
  private readonly hbs = Handlebars.create();
  private readonly compiled = new Map<string, Handlebars.TemplateDelegate>();

  constructor(private readonly overrideDirs: readonly string[] = []) {
    this.hbs.registerHelper('q', (value: unknown) => {
      if (typeof value !== 'string' && typeof value !== 'number') throw new Error(`q: expected a string or number, got ${typeof value}`);
      return shq(value);
    });
    this.hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
    this.hbs.registerHelper('yn', (value: unknown) => (value ? 'yes' : 'no'));
  }

  /** Which file a template name resolves to: the first override that has it, else the built-in. */
  locate(name: string): string {
    for (const dir of this.overrideDirs) {
      const candidate = join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
    return join(BUILTIN_TEMPLATES, name);
  }

  render(name: string, data: object): string {
    let template = this.compiled.get(name);
    if (!template) {
      const file = this.locate(name);
      template = this.hbs.compile(readFileSync(file, 'utf8'), { noEscape: true, strict: true });
      this.compiled.set(name, template);
    }
    return template(data);
  }
}
