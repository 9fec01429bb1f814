// Compares two V8 heap snapshots (e.g. `npm run bench -- --soak --snapshots 20,95`) by constructor:
// the count and shallow size of the objects of each constructor (strings, arrays, code and the
// like by their kind) in both, largest growth first. What grew between the two points of a soak
// shows here; retained sizes (what an object keeps alive) are DevTools' Memory tab's job.
//   node scripts/bench/snapshot-diff.ts EARLY.heapsnapshot LATE.heapsnapshot [--top 25]
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}
interface Group { count: number; bytes: number }

/** Count and shallow bytes per constructor (objects) or kind (everything else). */
async function byConstructor(file: string): Promise<Map<string, Group>> {
  const s = JSON.parse(await readFile(file, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const [TYPE, NAME, SIZE] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const types = s.snapshot.meta.node_types[0];
  const out = new Map<string, Group>();
  for (let i = 0; i < s.nodes.length; i += fields.length) {
    const type = types[s.nodes[i + TYPE]];
    const key = type === 'object' || type === 'native' ? `${s.strings[s.nodes[i + NAME]]} (${type})` : `(${type})`;
    const g = out.get(key) ?? { count: 0, bytes: 0 };
    g.count++;
    g.bytes += s.nodes[i + SIZE];
    out.set(key, g);
  }
  return out;
}

const { positionals, values } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
if (positionals.length !== 2) throw new Error('usage: snapshot-diff.ts EARLY.heapsnapshot LATE.heapsnapshot [--top N]');
const [early, late] = await Promise.all(positionals.map(byConstructor));
const total = (m: Map<string, Group>) => [...m.values()].reduce((a, g) => a + g.bytes, 0);
const MiB = (b: number) => (b / 2 ** 20).toFixed(2);
console.log(`total shallow size: ${MiB(total(early))} MiB → ${MiB(total(late))} MiB`);
const rows = [...new Set([...early.keys(), ...late.keys()])].map((k) => {
  const a = early.get(k) ?? { count: 0, bytes: 0 };
  const b = late.get(k) ?? { count: 0, bytes: 0 };
  return { k, a, b, d: b.bytes - a.bytes };
}).sort((x, y) => Math.abs(y.d) - Math.abs(x.d)).slice(0, Number(values.top));
for (const r of rows) console.log(`${(r.d >= 0 ? '+' : '') + MiB(r.d)} MiB\t${MiB(r.a.bytes)} → ${MiB(r.b.bytes)} MiB\t${r.a.count} → ${r.b.count}\t${r.k}`);
