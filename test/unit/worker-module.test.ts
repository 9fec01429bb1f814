// A worker thread starts on a module of the same kind as the one starting it: .ts from the sources,
// .js from the compiled daemon (scripts/build-daemon.ts), which must never load a .ts file.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { workerModule } from '../../appliance/runtime/worker-module.ts';

const APPLIANCE = path.resolve(import.meta.dirname, '../../appliance');

test('the worker module has the extension of the module that starts it', (t) => {
  t.is(workerModule('file:///opt/mailmoat/appliance/pipeline/analysis-pool.ts', 'analysis-worker').href, 'file:///opt/mailmoat/appliance/pipeline/analysis-worker.ts');
  t.is(workerModule('file:///opt/mailmoat/compiled/pipeline/analysis-pool.js', 'analysis-worker').href, 'file:///opt/mailmoat/compiled/pipeline/analysis-worker.js');
});

test('every worker thread of the appliance is started on a workerModule', async (t) => {
  const files = (await readdir(APPLIANCE, { recursive: true })).filter((f) => f.endsWith('.ts'));
  const starts: string[] = [];
  for (const file of files) {
    const text = await readFile(path.join(APPLIANCE, file), 'utf8');
    for (const m of text.matchAll(/new Worker\(([^,)]*)/g)) starts.push(`${file}: ${m[1]}`);
    // a module URL written with its extension is not rewritten by the compiler as imports are
    t.notRegex(text, /new URL\(['"`][^'"`]*\.ts['"`]/, file);
  }
  t.true(starts.length >= 2, starts.join('\n'));
  for (const s of starts) t.regex(s, /: (WORKER_URL|workerModule\()/);
});
