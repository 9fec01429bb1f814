// `npm run bench -- --heap`: loaded into the daemon with `--import`, so it runs in the main thread
// and in every analysis thread (workers inherit the flag). Each thread appends one JSON line a
// second to the file named by MAILMOAT_BENCH_HEAP: its V8 heap (used and reserved), external and
// ArrayBuffer memory, and (main thread) the process's RSS. The bench reads the lines back to report
// the steady state per thread (heap.ts). Not loaded unless asked: what ships is measured without it.
import { appendFileSync } from 'node:fs';
import { isMainThread, threadId } from 'node:worker_threads';

const file = process.env.MAILMOAT_BENCH_HEAP;
if (file) {
  setInterval(() => {
    const m = process.memoryUsage();
    appendFileSync(file, JSON.stringify({
      t: Date.now(), thread: isMainThread ? 'main' : `worker ${threadId}`,
      heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, ...(isMainThread ? { rss: m.rss } : {}),
    }) + '\n');
  }, 1000).unref();
}
