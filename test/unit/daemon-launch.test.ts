// The daemon's Node flags (issue 12: a bounded young generation) are the same wherever it is
// started for real: the image's unit file, `npm start`, and the benchmark that reports its memory.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { shippedNodeFlags } from '../../scripts/bench/daemon.ts';

const root = path.resolve(import.meta.dirname, '../..');

test('npm start passes Node the flags the unit file does, and they bound the young generation', async (t) => {
  const flags = await shippedNodeFlags();
  t.true(flags.some((f) => /^--max-semi-space-size=\d+$/.test(f)), `unit file flags: ${flags.join(' ')}`);
  const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const start = /\bnode\s(.*?)\S*bin\/mailmoat\.js start/.exec(pkg.scripts.start.split('&&').at(-1)!);
  t.deepEqual(start?.[1].split(/\s+/).filter(Boolean), flags);
});
