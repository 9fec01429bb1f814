// The hottest functions of a V8 .cpuprofile (what `npm run bench -- --profile` leaves in
// bench-results/profiles/): self time per function and file:line, and the same summed per file.
//   node scripts/bench/profile-top.ts FILE.cpuprofile [N]
import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
const [file, n = '25'] = process.argv.slice(2);
const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(prof.nodes.map((x) => [x.id, x]));
const selfUs = new Map<number, number>();
prof.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const fns = new Map<string, number>();
const files = new Map<string, number>();
for (const [id, us] of selfUs) {
  const f = byId.get(id)!.callFrame;
  const where = f.url ? `${f.url.replace(/^file:\/\/.*?\/(node_modules|appliance|scripts)\//, '$1/')}:${f.lineNumber + 1}` : '(native)';
  const key = `${f.functionName || '(anonymous)'} ${where}`;
  fns.set(key, (fns.get(key) ?? 0) + us);
  const fileKey = f.url ? where.replace(/:\d+$/, '') : `(${f.functionName})`;
  files.set(fileKey, (files.get(fileKey) ?? 0) + us);
}
const show = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, Number(n))
  .map(([k, us]) => `${(100 * us / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`).join('\n');
console.log(`total sampled ${(total / 1000).toFixed(0)} ms\n\nby function (self time):\n${show(fns)}\n\nby file:\n${show(files)}`);
