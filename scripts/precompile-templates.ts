/**
 * The built-in templates, checked and compiled once at build time (`npm run build`, after tsc):
 * dist/templates/precompiled.cjs, which Templates loads instead of parsing, checking and compiling
 * each built-in template at every command's start (~0.1 s of a `validate` or `apply`, paid once
 * per run and counted against the fleet floor, issue 14).
 *
 * - Each entry keeps the sha256 of the text it was made from: a template edited after the build is
 *   read, checked and compiled as before, so a stale table is never used.
 * - A built-in template the check refuses fails the build, naming its file, line and column.
 * - CommonJS, so Templates can load it synchronously (its constructor and `render` are).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { BUILTIN_TEMPLATES, kindOf, PRECOMPILED_TEMPLATES, precompileTemplate, sha256Of, TemplateError } from '../src/templates/templates.js';

const entries: string[] = [];
for (const relative of readdirSync(BUILTIN_TEMPLATES, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.hbs')).sort()) {
  const name = relative.split(sep).join('/');
  const file = join(BUILTIN_TEMPLATES, relative);
  const text = readFileSync(file, 'utf8');
  try {
    entries.push(`${JSON.stringify(name)}: { sha256: ${JSON.stringify(sha256Of(text))}, spec: ${precompileTemplate(file, text, kindOf(name))} }`);
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    console.error(`precompile-templates: ${err.file}:${err.line}:${err.column}: ${err.message}`);
    process.exit(1);
  }
}
mkdirSync(dirname(PRECOMPILED_TEMPLATES), { recursive: true });
writeFileSync(PRECOMPILED_TEMPLATES, `// Built by scripts/precompile-templates.ts from templates/: do not edit.\nmodule.exports = {\n${entries.join(',\n')}\n};\n`);
