// `npm run bench -- --heap`: loaded into the daemon with `--import`, so it runs in the main thread
// and in every analysis thread (workers inherit the flag). Each thread appends one JSON line a
// second to the file named by MAILMOAT_BENCH_HEAP: its V8 heap (used and reserved), external and
// ArrayBuffer memory, and (main thread) the process's RSS. The bench reads the lines back to report
// the steady state per thread (heap.ts). Not loaded unless asked: what ships is measured without it.
//
// `--snapshots`: the bench writes a label into MAILMOAT_BENCH_SNAPSHOT (a file) when the soak
// reaches a point; each thread sees the new label at its next sample and writes a heap snapshot of
// itself beside that file (LABEL-main.heapsnapshot, LABEL-worker-N.heapsnapshot). A file, not a
// signal: worker threads get no signals, and every thread must answer.
//
// JavaScript, not TypeScript: a .ts module here would load Node's type stripper into every thread
// of a daemon that runs compiled (scripts/build-daemon.ts), and its memory is part of what is measured.
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { isMainThread, threadId } from 'node:worker_threads';

const file = process.env.MAILMOAT_BENCH_HEAP;
const request = process.env.MAILMOAT_BENCH_SNAPSHOT;
const thread = isMainThread ? 'main' : `worker ${threadId}`;
let written = '';

function snapshotIfAsked() {
  let label;
  try { label = readFileSync(request, 'utf8').trim(); } catch { return; }
  if (!label || label === written) return;
  written = label;
  writeHeapSnapshot(path.join(path.dirname(request), `${label}-${thread.replace(' ', '-')}.heapsnapshot`));
}

if (file) {
  setInterval(() => {
    if (request) snapshotIfAsked();
    const m = process.memoryUsage();
    appendFileSync(file, JSON.stringify({
      t: Date.now(), thread,
      heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, ...(isMainThread ? { rss: m.rss } : {}),
    }) + '\n');
  }, 1000).unref();
}
