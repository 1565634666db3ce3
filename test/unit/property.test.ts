/**
 * Property tests (fast-check).
 *
 * (a) Whatever the input — random YAML-ish text, or the example inventory mutated at random —
 *     loading it returns a Cluster or throws an InputError whose problems are all well formed;
 *     never any other exception.
 * (b) Shell metacharacter payloads placed in every string field of the inventory are either
 *     rejected with a problem naming that field, or accepted — and then shq quotes them so that
 *     /bin/sh reads back exactly the same bytes (and runs nothing).
 */
import test from 'ava';
import fc from 'fast-check';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { parseInventory } from '../../src/inventory/load.js';
import type { Cluster } from '../../src/inventory/model.js';
import { fieldPath, InputError } from '../../src/util/problems.js';
import { shq } from '../../src/util/shell.js';
import { YamlSource } from '../../src/util/yaml-source.js';
import { repoPath } from '../helpers/inventory.js';
import { allPaths, clone, deleteAt, duplicateAt, getAt, isObject, type Json, type Path, renameAt, setAt, stringPaths } from '../helpers/paths.js';
import { printedBySh, shellPayloads } from '../helpers/shell.js';

const EXAMPLE_TEXT = readFileSync(repoPath('inventory/example.yml'), 'utf8');
const EXAMPLE = parseYaml(EXAMPLE_TEXT) as Json;

type Outcome = { ok: true; cluster: Cluster } | { ok: false; error: InputError };

/** Load `text`; anything thrown but an InputError fails the property (rethrown). */
function load(text: string, file = 'prop.yml'): Outcome {
  try {
    return { ok: true, cluster: parseInventory(new YamlSource(file, text)) };
  } catch (err) {
    if (err instanceof InputError) return { ok: false, error: err };
    throw err;
  }
}

/** The structured-error contract: a problem list, each with file, line, col >= 1 and a message. */
function wellFormed(outcome: Outcome, text: string, file = 'prop.yml'): boolean {
  if (outcome.ok) return outcome.cluster.directors.length >= 1;
  const { problems } = outcome.error;
  if (problems.length === 0) throw new Error('an InputError without problems');
  const lines = text.split('\n').length;
  for (const p of problems) {
    const ok = p.file === file && Number.isInteger(p.line) && p.line >= 1 && p.line <= lines + 1
      && Number.isInteger(p.col) && p.col >= 1 && typeof p.field === 'string' && typeof p.message === 'string' && p.message.trim() !== '';
    if (!ok) throw new Error(`malformed problem ${JSON.stringify(p)}`);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// (a) random and mutated inventories

/** YAML-ish text from YAML's own punctuation and the inventory's words; `aliases` adds `&a`/`*a`. */
const yamlish = (aliases: boolean) =>
  fc.string({
    unit: fc.constantFrom(
      ...'abz019 :-\n\n  \t[]{},!|>\'"#%@`?~.\\/'.split(''), 'directors', 'services', 'real_servers', '- name: x\n', 'port: ', '<<: ', '!!str ', '---\n', '...\n', '\u00e9',
      ...(aliases ? ['&a ', '*a', '&', '*'] : []),
    ),
    maxLength: 200,
  });

test('(a) random YAML-ish text: a Cluster or an InputError, nothing else', (t) => {
  fc.assert(fc.property(yamlish(false), (text) => wellFormed(load(text), text)), { numRuns: 1000 });
  t.pass();
});

// An alias to an anchor not (yet) defined, like `x: *a`, must be a problem, not yaml's ReferenceError.
test('(a) random YAML-ish text with anchors and aliases: a Cluster or an InputError, nothing else', (t) => {
  fc.assert(fc.property(yamlish(true), (text) => wellFormed(load(text), text)), { numRuns: 1000 });
  t.pass();
});

test('(a) random edits of the example text: a Cluster or an InputError, nothing else', (t) => {
  const edit = fc.record({
    at: fc.nat({ max: EXAMPLE_TEXT.length }),
    remove: fc.nat({ max: 20 }),
    // no '*': an alias to a missing anchor is a known failure (see the test with aliases above)
    insert: fc.oneof(fc.constantFrom('', ' ', '\n', ':', '- ', '[', ']', '{', '}', '"', "'", '&x ', '!!int ', '\t', '#'), fc.string({ maxLength: 8 }).map((x) => x.replaceAll('*', '+'))),
  });
  fc.assert(
    fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
      let text = EXAMPLE_TEXT;
      for (const e of edits) text = text.slice(0, e.at) + e.insert + text.slice(e.at + e.remove);
      return wellFormed(load(text), text);
    }),
    { numRuns: 150 },
  );
  t.pass();
});

/** A key a bit off: one character dropped, doubled or changed, or some random text. */
const renamed = (key: string) =>
  fc.oneof(
    fc.nat({ max: Math.max(0, key.length - 1) }).map((i) => key.slice(0, i) + key.slice(i + 1)),
    fc.nat({ max: Math.max(0, key.length - 1) }).map((i) => key.slice(0, i + 1) + key.slice(i)),
    fc.tuple(fc.nat({ max: Math.max(0, key.length - 1) }), fc.constantFrom('x', '_', '-', 'A', ' ')).map(([i, c]) => key.slice(0, i) + c + key.slice(i + 1)),
    fc.string({ maxLength: 12 }),
  );

type Mutation = { op: 'delete' | 'replace' | 'rename' | 'duplicate'; pick: number; value: Json; seed: number };

const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('delete', 'replace', 'rename', 'duplicate'),
  pick: fc.nat(),
  value: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  seed: fc.nat(),
});

/** Apply a mutation to a copy of `doc`; returns the copy and a description for failure messages. */
function mutate(doc: Json, m: Mutation): [Json, string] {
  const out = clone(doc);
  const paths = allPaths(out);
  const path = paths[m.pick % paths.length]!;
  const last = path[path.length - 1];
  switch (m.op) {
    case 'delete':
      deleteAt(out, path);
      break;
    case 'replace':
      setAt(out, path, m.value);
      break;
    case 'rename':
      if (typeof last === 'string') renameAt(out, path, fc.sample(renamed(last), { numRuns: 1, seed: m.seed })[0]!);
      else setAt(out, path, m.value);
      break;
    case 'duplicate': {
      // the nearest list item at or above the path
      const at = path.map((p, i) => [p, i] as const).filter(([p]) => typeof p === 'number').pop();
      if (at) duplicateAt(out, path.slice(0, at[1] + 1));
      break;
    }
  }
  return [out, `${m.op} ${fieldPath(path)}`];
}

test('(a) random mutations of the example inventory: a Cluster or an InputError, nothing else', (t) => {
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
      let doc = EXAMPLE;
      for (const m of mutations) doc = mutate(doc, m)[0];
      const text = stringify(doc);
      return wellFormed(load(text), text);
    }),
    { numRuns: 200 },
  );
  t.pass();
});

test('(a) every single mutation site of the example, each operation once: a Cluster or an InputError', (t) => {
  // Exhaustive over sites rather than random: each path deleted, replaced by a list, renamed with a typo.
  const paths = allPaths(EXAMPLE);
  let rejected = 0;
  for (let pick = 0; pick < paths.length; pick++) {
    for (const [op, value] of [['delete', null], ['replace', ['x']], ['rename', null]] as const) {
      const [doc, what] = mutate(EXAMPLE, { op, pick, value: value as Json, seed: pick });
      const text = stringify(doc);
      let outcome: Outcome;
      try {
        outcome = load(text);
      } catch (err) {
        t.fail(`${what}: threw ${String(err)}`);
        continue;
      }
      if (!outcome.ok) rejected++;
      t.true(wellFormed(outcome, text), what);
    }
  }
  t.true(rejected > paths.length, 'most mutations are rejected');
});

// ---------------------------------------------------------------------------------------------
// (b) shell payloads in every string field

/**
 * The example with every optional string-valued field filled in, so that "every string field"
 * covers the whole schema, not only what the example happens to use.
 */
function enrichedExample(): Json {
  const doc = clone(EXAMPLE) as Record<string, Json>;
  const obj = (path: Path) => {
    const node = getAt(doc, path);
    if (!isObject(node)) throw new Error(`no mapping at ${fieldPath(path)}`);
    return node;
  };
  Object.assign(obj(['defaults', 'ssh']), {
    agent: '/run/user/1000/ssh-agent.sock', identity_passphrase_env: 'SSH_KEY_PASSPHRASE', host_key_policy: 'accept-new',
    config_file: '~/.ssh/config', become: { method: 'sudo', user: 'root', password_file: '/etc/lvsplay/sudo-password' },
  });
  Object.assign(obj(['groups', 'remote', 'ssh', 'jump']), { identity_file: '~/.ssh/bastion' });
  Object.assign(obj(['real_servers', 0]), { ssh: { host: 'web1.example.net', user: 'ops' }, vars: { role: 'frontend' } });
  Object.assign(obj(['directors', 0]), { pair: 'main', labels: { rack: 'r1' } });
  Object.assign(obj(['directors', 1]), { pair: 'main' });
  Object.assign(obj(['services', 0]), { managed_by: 'ldirectord', directors: ['lb1', 'lb2'], fallback: { address: '192.0.2.30', forwarding: 'dr' } });
  Object.assign(obj(['services', 0, 'health_check']), { virtualhost: 'www.example.net', http_method: 'GET' });
  Object.assign(obj(['services', 3]), { health_check: { type: 'external', command: '/usr/local/bin/check-app' }, managed_by: 'ldirectord' });
  (doc['services'] as Json[]).push({ name: 'mail', fwmark: 7, family: 'ipv4', scheduler: 'lc', persistence: { timeout: 60 }, real_servers: [{ server: 'web3' }] });
  Object.assign(obj(['ldirectord']), {
    email_alert: 'ops@example.net', maintenance_dir: '/etc/ha.d/maintenance', config_file: '/etc/ha.d/ldirectord.cf', logfile: '/var/log/ldirectord.log',
  });
  doc['rules_file'] = '/etc/ipvsadm.rules';
  return doc;
}

/** Mappings whose keys are the user's (group names, var names, label names). */
function userKeyMaps(doc: Json): Path[] {
  return [[] as Path, ...allPaths(doc)].filter((p) => {
    const last = p[p.length - 1];
    return (last === 'groups' && p.length === 1) || last === 'vars' || last === 'labels';
  }).filter((p) => isObject(getAt(doc, p)) && Object.keys(getAt(doc, p) as object).length > 0);
}

/** Secret-ish fields: a rejected value is never echoed. */
const SECRET = /pass(word|phrase)?|secret|token/i;

/** One place a payload goes: a string value at `path`, or (key) the first key of the mapping at `path`. */
interface Site {
  path: Path;
  key: boolean;
}

const siteField = (site: Site, payload: string) =>
  site.key ? fieldPath([...site.path, payload]) : fieldPath(site.path);

function place(doc: Json, site: Site, payload: string): void {
  if (site.key) renameAt(doc, [...site.path, Object.keys(getAt(doc, site.path) as object)[0]!], payload);
  else setAt(doc, site.path, payload);
}

test('(b) shell payloads in every string field: rejected naming the field, or accepted and quoted exactly', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-payload-'));
  try {
    const canary = join(dir, 'pwned');
    const payloads = shellPayloads(canary);
    const base = enrichedExample();
    t.true(load(stringify(base)).ok, 'the enriched example is valid');
    // values first, then keys, deepest first: renaming a key must not move a site not yet placed
    const sites: Site[] = [
      ...stringPaths(base).map((path) => ({ path, key: false })),
      ...userKeyMaps(base).sort((a, b) => b.length - a.length).map((path) => ({ path, key: true })),
    ];
    // the enumeration covers every kind of string field
    const kinds = new Set(sites.map((s) => s.path.filter((x) => typeof x === 'string').join('.')));
    for (const f of ['directors.name', 'directors.address', 'directors.interface.name', 'directors.interface.address6', 'directors.pair', 'real_servers.gateway',
      'real_servers.ssh.become.password_env', 'real_servers.groups', 'defaults.ssh.identity_file', 'defaults.ssh.agent', 'defaults.ssh.become.password_file',
      'groups.remote.ssh.jump.host', 'groups.remote.ssh.jump.user', 'services.health_check.request', 'services.health_check.receive', 'services.health_check.virtualhost',
      'services.real_servers.server', 'services.scheduler_flags', 'services.directors', 'services.persistence.netmask', 'ldirectord.email_alert', 'ldirectord.logfile',
      'rules_file', 'nat_gateway', 'defaults.vars.site', 'real_servers.labels.zone', 'services.health_check.command', 'services.fallback.address', 'groups', 'defaults.vars']) {
      t.true(kinds.has(f), `string field ${f} is covered`);
    }

    // Step 1, per payload: the payload in every site at once. The schema reports every field it
    // refuses, each by name; a site no problem names was accepted by the schema, and is then tried
    // alone (step 2), through the semantic checks too.
    const alone: [Site, string][] = [];
    for (const payload of payloads) {
      const doc = clone(base);
      for (const site of sites) place(doc, site, payload);
      const text = stringify(doc);
      const outcome = load(text);
      t.true(wellFormed(outcome, text));
      if (outcome.ok) {
        t.fail(`${JSON.stringify(payload)} was accepted in every field at once`);
        continue;
      }
      const named = new Set(outcome.error.problems.map((p) => p.field));
      for (const site of sites) if (!named.has(siteField(site, payload))) alone.push([site, payload]);
      for (const p of outcome.error.problems) {
        // (a payload placed as a key is part of the field path; only the field's own name counts)
        if (SECRET.test(p.field.replace(payload, '')) && payload.length >= 6) t.false(p.message.includes(payload), `a secret-ish value is echoed: ${p.field}`);
      }
    }

    // Step 2: each payload the schema let through, alone in its field.
    const accepted = new Map<string, string[]>();
    for (const [site, payload] of alone) {
      const doc = clone(base);
      place(doc, site, payload);
      const text = stringify(doc);
      const outcome = load(text);
      t.true(wellFormed(outcome, text));
      const field = siteField(site, payload);
      if (outcome.ok) accepted.set(payload, [...(accepted.get(payload) ?? []), field]);
      else if (!outcome.error.problems.some((p) => p.field === field)) {
        t.fail(`${JSON.stringify(payload)} at ${field}: rejected, but no problem names the field:\n${outcome.error.message}`);
      }
    }

    // Step 3: every accepted string reaches /bin/sh intact through shq; NUL never gets that far.
    for (const [payload, fields] of accepted) {
      t.false(payload.includes('\0'), `a NUL was accepted in ${fields.join(', ')}`);
      if (payload.includes('\0')) continue;
      t.deepEqual(printedBySh(payload), Buffer.from(payload, 'utf8'), `${JSON.stringify(payload)} accepted in ${fields.join(', ')}`);
    }
    const acceptedFields = new Set([...accepted.values()].flat());
    t.true(acceptedFields.has('defaults.vars.site') && acceptedFields.has('services[0].health_check.request'), 'free text (vars, check requests) accepts some payloads');
    t.false(acceptedFields.has('directors[0].name'), 'names accept none');
    t.false(existsSync(canary), 'no payload was executed');
    t.log(`${sites.length} string sites × ${payloads.length} payloads; ${alone.length} tried alone, ${[...accepted.values()].flat().length} accepted`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('(b) shq round-trips any string without NUL through /bin/sh printf', (t) => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0')), (s) => {
      const out = printedBySh(s);
      return out.equals(Buffer.from(s, 'utf8'));
    }),
    { numRuns: 200 },
  );
  t.pass();
});

test('(b) shq never lets a string with NUL through', (t) => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 10 }), fc.string({ unit: 'binary', maxLength: 10 }), (a, b) => {
      try {
        shq(`${a}\0${b}`);
        return false;
      } catch {
        return true;
      }
    }),
  );
  t.pass();
});
