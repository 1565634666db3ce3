/**
 * Helpers for inventory and playbook tests: a small valid inventory to break one rule at a time,
 * exact text edits on it, and the line/column of a snippet so expected places are computed from
 * the very text under test rather than counted by hand.
 */
import { fileURLToPath } from 'node:url';
import { parseInventory } from '../../src/inventory/load.js';
import type { Cluster } from '../../src/inventory/model.js';
import { InputError, type Problem } from '../../src/util/problems.js';
import { YamlSource } from '../../src/util/yaml-source.js';

/** Absolute path of a file in the repository (tests run from dist/test/...). */
export function repoPath(relative: string): string {
  return fileURLToPath(new URL(`../../../${relative}`, import.meta.url));
}

/**
 * A valid inventory touching every kind of service: DR (web), TUN (api), NAT with port mapping
 * (app) and IPv6 DR with a health check (web6). Each rule test breaks exactly one thing in it.
 */
export const BASE = `defaults:
  ssh:
    user: admin
    identity_file: ~/.ssh/id_ed25519
  vars:
    site: test
    tier: any
groups:
  web:
    ssh: { port: 2222, user: webadmin }
    vars: { tier: front }
directors:
  - name: lb1
    address: 192.0.2.5
    interface: { name: eth0, address: 192.0.2.5/24, address6: 2001:db8::5/64 }
    role: primary
  - name: lb2
    address: 192.0.2.6
    interface: { name: eth0, address: 192.0.2.6/24, address6: 2001:db8::6/64 }
    role: backup
real_servers:
  - { name: web1, address: 192.0.2.21, address6: 2001:db8::21, groups: [web] }
  - { name: web2, address: 192.0.2.22, address6: 2001:db8::22, groups: [web] }
  - { name: far1, address: 198.51.100.31 }
  - { name: app1, address: 192.0.2.41, gateway: 192.0.2.5 }
services:
  - name: web
    vip: 192.0.2.10
    port: 80
    real_servers:
      - { server: web1 }
      - { server: web2 }
  - name: api
    vip: 192.0.2.12
    port: 443
    forwarding: tun
    real_servers:
      - { server: far1 }
  - name: app
    vip: 192.0.2.13
    port: 8443
    forwarding: nat
    real_servers:
      - { server: app1, port: 443 }
  - name: web6
    vip: 2001:db8::10
    port: 80
    health_check: { type: connect }
    real_servers:
      - { server: web1 }
`;

/** Replace the one occurrence of `from` in `text` (fails loudly if it is missing or ambiguous). */
export function edit(text: string, from: string, to: string): string {
  const first = text.indexOf(from);
  if (first < 0) throw new Error(`edit: ${JSON.stringify(from)} is not in the text`);
  if (text.indexOf(from, first + 1) >= 0) throw new Error(`edit: ${JSON.stringify(from)} occurs more than once`);
  return text.slice(0, first) + to + text.slice(first + from.length);
}

/** Add lines (given without indentation) to the service named `name` in BASE-shaped text. */
export function addToService(text: string, name: string, ...lines: string[]): string {
  const header = `  - name: ${name}\n`;
  return edit(text, header, header + lines.map((l) => `    ${l}\n`).join(''));
}

/**
 * 1-based line and column of `inner` inside the one occurrence of `context` in `text`: with
 * `context` '{ server: web9 }' and `inner` 'web9', the place of the value web9.
 */
export function placeOf(text: string, context: string, inner: string = context): { line: number; col: number } {
  const start = text.indexOf(context);
  if (start < 0) throw new Error(`placeOf: ${JSON.stringify(context)} is not in the text`);
  if (text.indexOf(context, start + 1) >= 0) throw new Error(`placeOf: ${JSON.stringify(context)} occurs more than once`);
  const within = context.indexOf(inner);
  if (within < 0) throw new Error(`placeOf: ${JSON.stringify(inner)} is not in ${JSON.stringify(context)}`);
  const offset = start + within;
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const col = offset - (before.lastIndexOf('\n') + 1) + 1;
  return { line, col };
}

export function parse(text: string, file = 'bad.yml'): Cluster {
  return parseInventory(new YamlSource(file, text));
}

/** The problems parsing `text` reports; fails if it loads, or throws anything but an InputError. */
export function problemsOf(text: string, file = 'bad.yml'): readonly Problem[] {
  try {
    parse(text, file);
  } catch (err) {
    if (err instanceof InputError) return err.problems;
    throw err;
  }
  throw new Error('expected the inventory to be rejected, but it loaded');
}
