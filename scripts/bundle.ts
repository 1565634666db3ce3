/**
 * The command users run, as one bundle of the compiled CLI (dist/src/cli/main.js) and its
 * libraries: dist/bundle/cli/main.js (package.json's `bin`), built by `npm run build` after tsc.
 *
 * Why: Node loads an ESM graph file by file (resolve, stat, read, compile). `apply` loads ~300
 * files (zod alone ~100, 65 of them locales it never uses), and that was ~140 ms of every
 * command's ~0.4 s start on the bench machine, paid once per run and counted against the fleet
 * floor (issue 14). Bundled, the same code is a handful of files, and unused exports (zod's
 * locales) are dropped.
 *
 * - Split at the CLI's dynamic imports (`--splitting`): each command still loads only its own
 *   chunks, as main.ts intends; test/unit/cli-commands.test.ts checks both builds.
 * - ssh2 stays in node_modules: it loads its compiled crypto binding by a path relative to its
 *   own files and falls back, silently and slower, to JavaScript ciphers when that path is gone.
 *   `diff` and `re2js` are loaded by createRequire where needed (print.ts, select.ts) and stay
 *   there too.
 * - The output sits at the same depth as dist/src/cli, so the built-in templates and playbooks
 *   are found at the same `../../../` (templates.ts, cli/load.ts).
 * - CommonJS libraries bundled into ESM call `require` for Node's own modules: the banner gives
 *   them one.
 * - Linked source maps, through tsc's own to the TypeScript: `--debug` turns them on for its
 *   stack trace (main.ts).
 */
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BUNDLE_DIR = join(root, 'dist/bundle/cli');

rmSync(BUNDLE_DIR, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['dist/src/cli/main.js'],
  outdir: BUNDLE_DIR,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['ssh2'],
  sourcemap: 'linked',
  banner: { js: "import { createRequire as lvsplayCreateRequire } from 'node:module'; const require = lvsplayCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
