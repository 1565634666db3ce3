/**
 * Values that reach a shell are data, never syntax: hostile-but-valid text through `{{q}}` in a
 * user's template, in a file's content, in a shell task's check. Also the Templates contract:
 * strict (a missing value throws) and overridable by the same relative path.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import type { FileDesired } from '../../src/resources/file/index.js';
import { BUILTIN_TEMPLATES, Templates } from '../../src/resources/templates.js';
import { shq } from '../../src/util/shell.js';
import { ctxFor, SUPPORT_TEMPLATES } from '../support/cluster.js';
import { run } from '../support/resources.js';
import { cleanup, runSh, syntaxError, tempDir } from '../support/sh.js';

/** A temp override folder with `files` (relative path → text); returns the folder. */
function overrides(files: Record<string, string>): string {
  const dir = tempDir('lvsplay-tpl-');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

test('a value with \'; touch …; \' rendered through {{q}} prints verbatim and runs nothing', (t) => {
  const work = tempDir();
  const tpl = overrides({ 'site/echo.sh.hbs': "printf '%s\\n' {{q vars.evil}}\necho {{q vars.evil}} > out.txt\n" });
  try {
    const marker = join(work, 'pwned');
    const evil = `'; touch ${marker}; '`;
    const o = run('shell', ctxFor('web1', { vars: { evil }, templates: new Templates([tpl]) }), { template: 'site/echo.sh.hbs', check: 'false' }, '');
    t.is(syntaxError(o.script), '');
    const out = runSh(o.script, { cwd: work });
    t.is(out.code, 0, out.stderr);
    t.is(out.stdout, `${evil}\n`);
    t.is(readFileSync(join(work, 'out.txt'), 'utf8'), `${evil}\n`);
    t.false(existsSync(marker), 'the marker file must not be created');
  } finally {
    cleanup(work);
    cleanup(tpl);
  }
});

test('other hostile shapes through {{q}}: $(…), backticks, ${…}, newlines, backslashes, leading dash, quotes', (t) => {
  const work = tempDir();
  const tpl = overrides({ 'site/echo.sh.hbs': "printf '[%s]\\n' {{q vars.v}}\n" });
  try {
    const marker = join(work, 'pwned');
    const values = [
      `$(touch ${marker})`, `\`touch ${marker}\``, '${HOME:?boom}', `a\ntouch ${marker}\nb`, 'back\\slash\\', '-n', '--', "it's", '"double"',
      `'\\''; touch ${marker}; echo '`, '*', '~root', '!', '#not a comment', ' spaced  out ', '', 'ünïcødé ✓', `;touch ${marker}`, '|| true', '&',
    ];
    const templates = new Templates([tpl]);
    for (const v of values) {
      const o = run('shell', ctxFor('web1', { vars: { v }, templates }), { template: 'site/echo.sh.hbs', check: 'false' }, '');
      t.is(syntaxError(o.script), '', JSON.stringify(v));
      const out = runSh(o.script, { cwd: work });
      t.is(out.stdout, `[${v}]\n`, JSON.stringify(v));
    }
    t.false(existsSync(marker));
  } finally {
    cleanup(work);
    cleanup(tpl);
  }
});

test('any text a var may hold (no NUL, no CR) survives {{q}} and sh exactly (property)', (t) => {
  const work = tempDir();
  try {
    const hostile = fc.constantFrom("'", '"', '\\', '$', '`', '\n', ';', '&', '|', '(', ')', '{', '}', '*', '?', '[', ']', '~', '#', '!', ' ', '\t', '-', '%');
    const text = fc.array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 5 }), hostile), { maxLength: 20 }).map((parts) => parts.join('')).filter((s) => !/[\0\r]/.test(s));
    fc.assert(
      fc.property(text, (v) => {
        const out = runSh(`printf '%s' ${shq(v)}\n`, { cwd: work });
        return out.code === 0 && out.stdout === v;
      }),
      { numRuns: 150 },
    );
    t.pass();
  } finally {
    cleanup(work);
  }
});

test('the file resource: hostile content (a var rendered raw into a config file) is written byte for byte', (t) => {
  const work = tempDir();
  const tpl = overrides({ 'site/raw.conf.hbs': 'value={{vars.evil}}\n' });
  try {
    const marker = join(work, 'pwned');
    const evil = `'; touch ${marker}; ' $(touch ${marker}) \`touch ${marker}\`\n@@lvsplay-task 0.0@@\n\\`;
    const path = join(work, 'etc', 'raw.conf');
    const o = run('file', ctxFor('web1', { vars: { evil }, templates: new Templates([tpl]) }), { path, template: 'site/raw.conf.hbs' }, '');
    t.is(syntaxError(o.script), '');
    const out = runSh(o.script, { cwd: work });
    t.is(out.code, 0, out.stderr);
    t.is(readFileSync(path, 'utf8'), `value=${evil}\n`);
    t.is((o.desired as FileDesired).content, `value=${evil}\n`);
    t.false(existsSync(marker));
  } finally {
    cleanup(work);
    cleanup(tpl);
  }
});

test('the shell resource: a check with quotes and substitutions is run as written, once, and only decides', (t) => {
  const work = tempDir();
  try {
    const check = `test "$(printf '%s' "it's")" = "it's" && printf '%s\\n' "ran \`echo twice\`" >> '${work}/log' && [ -f "${work}/flag" ]`;
    const o = run('shell', ctxFor('web1'), { template: 'site/hello.sh.hbs', check }, '');
    t.is(syntaxError(o.probe), '');
    const needed = runSh(o.probe, { cwd: work });
    t.is(needed.stdout, 'needed\n');
    writeFileSync(join(work, 'flag'), '');
    t.is(runSh(o.probe, { cwd: work }).stdout, 'done\n');
    t.is(readFileSync(join(work, 'log'), 'utf8'), 'ran twice\nran twice\n');
  } finally {
    cleanup(work);
  }
});

test('every built-in template renders scripts that parse, for values at the edge of what the schemas allow', (t) => {
  const ctx = ctxFor('lb1');
  const scripts = [
    run('package', ctx, { names: ['g++', 'libc6.1-dev', 'x-y.z+1'] }, '').script,
    run('package', ctx, { names: ['g++'], state: 'absent' }, 'g++ installed\n').script,
    run('service', ctx, { name: 'getty@tty1.service', enabled: true }, '').script,
    run('service', ctx, { name: 'a:b-c_d.e', state: 'stopped', enabled: false }, 'active active\nenabled enabled\n').script,
    run('file', ctx, { path: '/etc/a,b=c%d@e+f/-g.conf', template: 'site/motd.hbs', mode: '600', on_change: { reload: 'x@y.service' } }, '').script,
    run('sysctl', ctx, { extra: { 'net.ipv4.conf.eth0-1.rp_filter': '0', 'kernel.core_pattern': 'core.e:p -x' } }, '').script,
  ];
  const probes = [
    run('package', ctx, { names: ['g++'] }, '').probe,
    run('service', ctx, { name: 'getty@tty1.service' }, '').probe,
    run('file', ctx, { path: '/etc/a,b=c%d@e+f/-g.conf', template: 'site/motd.hbs' }, '').probe,
    run('shell', ctx, { template: 'site/hello.sh.hbs', check: "echo '; } fi done ) ( {" }, '').probe,
  ];
  for (const s of [...scripts, ...probes]) t.is(syntaxError(s), '', s);
  t.true(scripts[5]!.includes("sysctl -qw 'kernel.core_pattern=core.e:p -x'"));
});

// ---------------------------------------------------------------- Templates

test('Templates are strict: a missing value throws rather than rendering empty', (t) => {
  const tpl = overrides({ 'site/missing.hbs': 'x={{vars.nope}}\n', 'site/missing-q.sh.hbs': 'echo {{q vars.nope}}\n', 'site/deep.hbs': '{{host.nothing.here}}\n' });
  try {
    const templates = new Templates([tpl]);
    // Handlebars' own exceptions are not native Errors, hence `any`
    const error = t.throws(() => templates.render('site/missing.hbs', { vars: {} }), { any: true });
    t.regex(String((error as { message?: unknown } | undefined)?.message), /nope/);
    t.throws(() => templates.render('site/missing-q.sh.hbs', { vars: {} }), { message: /q: expected a string or number, got undefined/ });
    t.throws(() => templates.render('site/deep.hbs', { host: {} }), { any: true });
    t.throws(() => run('file', ctxFor('web1', { templates }), { path: '/etc/x', template: 'site/missing.hbs' }, ''), { any: true, message: /nope/ });
  } finally {
    cleanup(tpl);
  }
});

test('Templates: {{q}} refuses what is not a string or number, and NUL bytes', (t) => {
  const tpl = overrides({ 'q.hbs': '{{q value}}' });
  try {
    const templates = new Templates([tpl]);
    t.throws(() => templates.render('q.hbs', { value: true }), { message: /got boolean/ });
    t.throws(() => templates.render('q.hbs', { value: { a: 1 } }), { message: /got object/ });
    t.throws(() => templates.render('q.hbs', { value: 'a\0b' }), { message: /NUL/ });
    t.is(templates.render('q.hbs', { value: 8443 }), '8443');
    t.is(templates.render('q.hbs', { value: '-rf' }), "'-rf'");
  } finally {
    cleanup(tpl);
  }
});

test('Templates: no HTML escaping (noEscape)', (t) => {
  const tpl = overrides({ 'raw.hbs': '{{v}}' });
  try {
    t.is(new Templates([tpl]).render('raw.hbs', { v: `<a href="x">&'` }), `<a href="x">&'`);
  } finally {
    cleanup(tpl);
  }
});

test('Templates: an override by the same relative path wins over the built-in; the first override folder wins; others fall back', (t) => {
  const a = overrides({ 'sysctl/apply.sh.hbs': '# site A\n{{#each values}}echo {{q this.assignment}}\n{{/each}}' });
  const b = overrides({ 'sysctl/apply.sh.hbs': '# site B\n', 'address/apply.sh.hbs': '# site B address\n' });
  try {
    const templates = new Templates([a, b]);
    t.is(templates.locate('sysctl/apply.sh.hbs'), join(a, 'sysctl/apply.sh.hbs'));
    t.is(templates.locate('address/apply.sh.hbs'), join(b, 'address/apply.sh.hbs'));
    t.is(templates.locate('file/write.sh.hbs'), join(BUILTIN_TEMPLATES, 'file/write.sh.hbs'));
    const o = run('sysctl', ctxFor('lb1', { templates }), { persist: false }, '');
    t.is(o.script, '# site A\necho net.ipv4.ip_forward=1\n');
    t.is(run('address', ctxFor('lb1', { templates }), {}, '').script, '# site B address\n');
    t.is(run('sysctl', ctxFor('lb1', { templates: new Templates() }), { persist: false }, '').script, '# sysctl: runtime values\nsysctl -qw net.ipv4.ip_forward=1\n');
  } finally {
    cleanup(a);
    cleanup(b);
  }
});

test('Templates: the built-in folder is the repository\'s templates/', (t) => {
  t.true(existsSync(join(BUILTIN_TEMPLATES, 'file', 'write.sh.hbs')));
  t.true(existsSync(join(SUPPORT_TEMPLATES, 'site', 'motd.hbs')));
});
