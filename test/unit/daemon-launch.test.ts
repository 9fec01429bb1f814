// The daemon's Node flags and memory settings (issue 12: a bounded young generation, the heap
// limit sized for the appliance, two malloc arenas) are the same wherever it is started for real:
// the image's unit file, `npm start`, and the benchmark that reports its memory. All three run the
// daemon compiled to JavaScript (scripts/build-daemon.ts), so that no thread loads Node's type stripper.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { shippedCommand, shippedEnvironment, shippedNodeFlags } from '../../scripts/bench/daemon.ts';
import { OLD_GENERATION_MB } from '../../appliance/pipeline/analysis-pool.ts';

const root = path.resolve(import.meta.dirname, '../..');

async function startScript(): Promise<{ env: Record<string, string>; flags: string[]; script: string; before: string[] }> {
  const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const steps = pkg.scripts.start.split('&&').map((s) => s.trim());
  const start = /^((?:[A-Z_]+=\S*\s+)*)node\s(.*?)(\S*mailmoat\.js) start/.exec(steps.at(-1)!);
  return {
    env: Object.fromEntries((start?.[1] ?? '').split(/\s+/).filter(Boolean).map((a) => a.split('=') as [string, string])),
    flags: (start?.[2] ?? '').split(/\s+/).filter(Boolean),
    script: start?.[3] ?? '',
    before: steps.slice(0, -1),
  };
}

test('npm start and the unit file run the compiled daemon, and npm start compiles it first', async (t) => {
  const start = await startScript();
  t.is(start.script, 'compiled/cli/mailmoat.js');
  t.true(start.before.includes('node scripts/build-daemon.ts'), `npm start's steps: ${start.before.join(' && ')}`);
  t.is((await shippedCommand()).script, '/opt/mailmoat/compiled/cli/mailmoat.js');
});

test('npm start passes Node the flags the unit file does, and they bound the young generation', async (t) => {
  const flags = await shippedNodeFlags();
  t.true(flags.some((f) => /^--max-semi-space-size=\d+$/.test(f)), `unit file flags: ${flags.join(' ')}`);
  t.deepEqual((await startScript()).flags, flags);
});

test('the daemon\'s heap limit is the appliance\'s, the one its analysis threads get', async (t) => {
  // without it V8 sizes the limit (and how far a heap grows between collections) from the RAM it sees
  t.true((await shippedNodeFlags()).includes(`--max-old-space-size=${OLD_GENERATION_MB}`));
});

test('npm start sets the malloc variables the unit file does, and they bound the arenas', async (t) => {
  const malloc = Object.fromEntries(Object.entries(await shippedEnvironment()).filter(([name]) => name.startsWith('MALLOC_')));
  t.regex(malloc.MALLOC_ARENA_MAX ?? '', /^\d+$/);
  t.deepEqual((await startScript()).env, malloc);
});
