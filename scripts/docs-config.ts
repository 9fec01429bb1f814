// Writes docs/config.md from the configuration schema (the schema is the one source of truth:
// its descriptions and defaults become the reference). `--check` exits 1 when the file is stale.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigSchema, defaultHostname } from '../appliance/config/schema.ts';

interface Node {
  type?: string | string[];
  description?: string;
  default?: unknown;
  properties?: Record<string, Node>;
  items?: Node;
  anyOf?: Node[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  patternProperties?: Record<string, Node>;
}

const OUT = path.resolve(import.meta.dirname, '../docs/config.md');

function typeOf(n: Node): string {
  if (n.anyOf) return n.anyOf.map((x) => (x.const !== undefined ? JSON.stringify(x.const) : typeOf(x))).join(' \\| ');
  if (n.type === 'array') return `list of ${n.items ? typeOf(n.items) : 'values'}`;
  const range = n.minimum !== undefined || n.maximum !== undefined ? ` (${n.minimum ?? ''}–${n.maximum ?? ''})` : '';
  return `${Array.isArray(n.type) ? n.type.join('/') : n.type ?? 'value'}${range}`;
}

function rows(n: Node, prefix: string, out: string[]): void {
  for (const [key, child] of Object.entries(n.properties ?? {})) {
    const p = prefix ? `${prefix}.${key}` : key;
    // A default taken from the machine (its host name) is described, not printed.
    const def = child.default === defaultHostname() ? 'this machine\'s host name' : child.default === undefined || (typeof child.default === 'object' && child.default !== null && !Array.isArray(child.default))
      ? '' : `\`${JSON.stringify(child.default)}\``;
    out.push(`| \`${p}\` | ${typeOf(child)} | ${def} | ${(child.description ?? '').replace(/\|/g, '\\|')} |`);
    if (child.properties) rows(child, p, out);
    if (child.items?.properties) rows(child.items, `${p}[]`, out);
    // A record (keyed by a domain or an address): its entries' keys under `<key>`.
    for (const entry of Object.values(child.patternProperties ?? {})) if (entry.properties) rows(entry, `${p}.<key>`, out);
  }
}

export function render(): string {
  const out = [
    '# Configuration reference',
    '',
    'Generated from `appliance/config/schema.ts` by `npm run docs:config`; do not edit by hand.',
    'A configuration file (YAML or JSON) given with `mailmoat start --config FILE` replaces the stored',
    'configuration when it is valid; otherwise every problem is listed and nothing changes. Check a',
    'file without starting anything with `mailmoat check-config FILE`. Every key is optional except',
    'where a list item needs it (a domain needs `name` and `routes`).',
    '',
    '| key | type | default | meaning |',
    '|---|---|---|---|',
  ];
  rows(ConfigSchema as unknown as Node, '', out);
  return `${out.join('\n')}\n`;
}

if (import.meta.main) {
  const text = render();
  if (process.argv.includes('--check')) {
    const current = await readFile(OUT, 'utf8').catch(() => '');
    if (current !== text) {
      console.error('docs/config.md is out of date: run npm run docs:config');
      process.exit(1);
    }
  } else {
    await mkdir(path.dirname(OUT), { recursive: true });
    await writeFile(OUT, text);
    console.log(`wrote ${OUT}`);
  }
}
