/**
 * The command line loads only what its command needs (start-up): the built CLI in a child
 * process whose module loader records every module it resolves (a resolve hook, Node's own
 * module.register), so a test sees what was loaded, not how long it took. Both builds: the
 * compiled modules (dist/src) and the bundle users run (package.json's bin, scripts/bundle.ts),
 * whose chunks are read back into the modules they hold (esbuild's `// path` line before each).
 * Bad options of a command are refused before anything is loaded that would contact a host.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadInventory } from '../../src/inventory/load.js';
import { repoPath } from '../helpers/inventory.js';
import { CLI } from '../support/paths.js';

const HOOKS = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(process.env.LVSPLAY_TEST_LOADED, resolved.url + '\\n');
  return resolved;
}
`;
/** The same for require() (jsdiff and re2js are loaded by createRequire, out of the ESM loader's sight). */
const REQUIRE_HOOK = `const Module = require('node:module');
const { appendFileSync } = require('node:fs');
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (!Module.isBuiltin(request)) appendFileSync(process.env.LVSPLAY_TEST_LOADED, Module._resolveFilename(request, parent, isMain) + '\\n');
  return load.apply(this, arguments);
};
`;

const MODULES = 'dist/src/cli/main.js';
const BUILDS = [MODULES, CLI];
const bundleDir = pathToFileURL(repoPath(dirname(CLI))).href;

/** The modules a loaded file stands for: itself, or for a bundle chunk, each module esbuild put in it. */
function modulesOf(url: string): string[] {
  if (!url.startsWith(`${bundleDir}/`)) return [url];
  return [url, ...[...readFileSync(fileURLToPath(url), 'utf8').matchAll(/^\/\/ ((?:dist|node_modules)\/\S+)$/gm)].map((m) => `/${m[1]}`)];
}

/** Runs lvsplay (the bundle unless `build` says otherwise); returns its output and the modules it loaded. */
function lvsplayBuilt(build: string, ...args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-cli-'));
  try {
    const hooks = join(dir, 'hooks.mjs');
    const requireHook = join(dir, 'require-hook.cjs');
    const loaded = join(dir, 'loaded.txt');
    writeFileSync(hooks, HOOKS);
    writeFileSync(requireHook, REQUIRE_HOOK);
    writeFileSync(loaded, '');
    const register = `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)});`;
    const r = spawnSync(process.execPath, ['--require', requireHook, '--import', `data:text/javascript,${encodeURIComponent(register)}`, build, ...args], {
      cwd: repoPath('.'),
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, LVSPLAY_TEST_LOADED: loaded },
    });
    const urls = readFileSync(loaded, 'utf8').split('\n').filter((l) => l !== '');
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, modules: [...new Set(urls)].flatMap(modulesOf) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const lvsplay = (...args: string[]) => lvsplayBuilt(CLI, ...args);

const loads = (modules: string[], part: string) => modules.some((m) => m.includes(part));

for (const build of BUILDS) {
  test(`${build}: --version loads no command and none of their libraries`, (t) => {
    const r = lvsplayBuilt(build, '--version');
    t.is(r.status, 0, r.stderr);
    t.is(r.stdout, '0.1.0\n');
    t.true(loads(r.modules, '/node_modules/commander/'), 'the hook saw the CLI load commander');
    t.true(loads(r.modules, '/dist/src/cli/main.js'));
    for (const part of ['/dist/src/cli/validate.js', '/dist/src/cli/apply.js', '/node_modules/zod/', '/node_modules/yaml/', '/node_modules/handlebars/']) t.false(loads(r.modules, part), part);
  });

  test(`${build}: a command loads its own module, not the other commands or SSH, the live list or jsdiff`, (t) => {
    const r = lvsplayBuilt(build, 'validate', '-i', 'inventory/example.yml');
    t.is(r.status, 0, r.stderr);
    t.regex(r.stdout, /^inventory\/example\.yml: valid: /);
    t.true(loads(r.modules, '/dist/src/cli/validate.js'));
    t.true(loads(r.modules, '/node_modules/zod/'));
    for (const part of ['/dist/src/cli/apply.js', '/dist/src/cli/import.js', '/dist/src/cli/status.js', '/dist/src/transport/ssh.js', '/node_modules/ssh2/', '/node_modules/listr2/', '/node_modules/diff/']) t.false(loads(r.modules, part), part);
  });

  test(`${build}: --diff loads jsdiff (by require(): the hooks see it, so a command that does not load it is seen not to)`, (t) => {
    const facts = mkdtempSync(join(tmpdir(), 'lvsplay-facts-'));
    try {
      for (const name of loadInventory(repoPath('inventory/example.yml')).hosts.keys()) writeFileSync(join(facts, `${name}.txt`), '');
      const r = lvsplayBuilt(build, 'plan', '-i', 'inventory/example.yml', 'playbooks/bootstrap.yml', '--facts', facts, '--diff');
      t.is(r.status, 0, r.stderr);
      t.regex(r.stdout, /^\s*\+\+\+ \/etc\/sysctl\.d\/90-lvsplay\.conf \(after\)$/m);
      t.true(loads(r.modules, '/node_modules/diff/'));
    } finally {
      rmSync(facts, { recursive: true, force: true });
    }
  });

  test(`${build}: help still lists every command, and a command's help shows its options`, (t) => {
    const all = lvsplayBuilt(build, 'help');
    t.is(all.status, 0, all.stderr);
    for (const name of ['validate', 'apply', 'failover', 'drain', 'undrain', 'status', 'render', 'plan', 'import']) t.regex(all.stdout, new RegExp(`^ {2}${name} `, 'm'), name);
    const apply = lvsplayBuilt(build, 'apply', '--help');
    t.is(apply.status, 0, apply.stderr);
    t.regex(apply.stdout, /^Usage: lvsplay apply \[options\] <playbooks\.\.\.>/);
    t.regex(apply.stdout, /--check/);
    t.true(loads(apply.modules, '/dist/src/cli/apply.js'));
    t.false(loads(apply.modules, '/dist/src/cli/status.js'));
  });
}

test('the bundle leaves out what no command uses (zod\'s locales) and keeps ssh2 in node_modules (its compiled crypto binding)', (t) => {
  const r = lvsplay('validate', '-i', 'inventory/example.yml');
  t.is(r.status, 0, r.stderr);
  t.true(loads(r.modules, '/node_modules/zod/v4/core/'));
  t.deepEqual(r.modules.filter((m) => m.includes('/node_modules/zod/v4/locales/')), ['/node_modules/zod/v4/locales/en.js'], 'of the locales, only the one zod itself uses');
  const chunks = readdirSync(repoPath(dirname(CLI))).filter((f) => f.endsWith('.js')).map((f) => readFileSync(repoPath(join(dirname(CLI), f)), 'utf8'));
  t.false(chunks.some((c) => /^\/\/ node_modules\/ssh2\//m.test(c)), 'no ssh2 code in the bundle');
  t.true(chunks.some((c) => /^import \w+ from "ssh2";$/m.test(c)), 'ssh2 imported from node_modules');
});

test('an unknown command is named, with the closest one, exit 1', (t) => {
  const r = lvsplay('aply', '-i', 'inventory/example.yml');
  t.is(r.status, 1);
  t.regex(r.stderr, /unknown command 'aply'/);
  t.regex(r.stderr, /Did you mean apply\?/);
});

test('drain --wait that is not a number is quoted back as given (it said "got null"), said of the option (not of a line of a playbook the user never wrote); nothing is contacted', (t) => {
  for (const [given, says] of [['abc', 'expected a number, got "abc"'], ['', 'expected a number, got ""'], ['1.5', 'expected an integer, got 1.5'], ['-5', 'expected a number >= 0, got -5']]) {
    const r = lvsplay('drain', '-i', 'inventory/example.yml', 'web1', '--wait', given!);
    t.is(r.status, 1, given);
    t.is(r.stderr, `lvsplay: --wait: ${says}\n`, given);
    t.false(loads(r.modules, '/node_modules/ssh2/'), 'no SSH loaded: nothing contacted');
  }
  const both = lvsplay('drain', '-i', 'inventory/example.yml', 'web1', '--wait', 'x', '--at-deadline', 'later');
  t.is(both.status, 1);
  t.is(both.stderr, 'lvsplay: --wait: expected a number, got "x"\nlvsplay: --at-deadline: expected one of "fail", "continue", got "later"\n');
});

/** inventory/example.yml with one more real server, "spare", in no service; and a rollout of it. */
function withSpare(): { dir: string; inventory: string; playbook: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-spare-'));
  const example = readFileSync(repoPath('inventory/example.yml'), 'utf8');
  const inventory = join(dir, 'inventory.yml');
  writeFileSync(inventory, example.replace(/^real_servers:\n/m, 'real_servers:\n  - { name: spare, address: 192.0.2.99 }\n'));
  const playbook = join(dir, 'rollout.yml');
  writeFileSync(playbook, '- hosts: spare\n  tasks:\n    - drain: { wait: 5 }\n    - wait: { tcp: 80 }\n    - undrain: {}\n');
  return { dir, inventory, playbook };
}

test('a real server in no service: drain / undrain by name are refused (no director carries it); a playbook\'s delegated tasks are noted as doing nothing for it', (t) => {
  const { dir, inventory, playbook } = withSpare();
  try {
    for (const kind of ['drain', 'undrain']) {
      const r = lvsplay(kind, '-i', inventory, 'spare', 'web1');
      t.is(r.status, 1, kind);
      t.is(r.stderr, `lvsplay: spare: in no service of ${inventory}, so no director carries it: nothing to ${kind}\n`);
      t.false(loads(r.modules, '/node_modules/ssh2/'), 'nothing contacted');
    }
    const note = 'lvsplay: note: play "play 1": drain, wait, undrain do nothing for host spare: no director carries it (in no service)\n';
    const valid = lvsplay('validate', '-i', inventory, playbook);
    t.is(valid.status, 0, valid.stderr);
    t.is(valid.stderr, note);
    // render said "the playbooks select none of spare" (it counted the directors' steps, of which there are none)
    const render = lvsplay('render', '-i', inventory, playbook, '--host', 'spare');
    t.is(render.status, 0, render.stderr);
    t.is(render.stderr, note);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
