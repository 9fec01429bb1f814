// Per-thread heap figures of one run from heap-sampler.js's lines: for each thread (the daemon's
// main thread, each analysis thread) the median over the second half of the samples, as procmon.ts
// does for RSS, and the peak of its V8 heap. A thread that ended before the run did (the
// classifier's refit thread at start, a replaced analysis thread) is marked so.
import { readFile } from 'node:fs/promises';

interface Sample { t: number; thread: string; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number; rss?: number }
export interface ThreadHeap {
  thread: string; ended: boolean; heapUsedMiB: number; heapTotalMiB: number; peakHeapTotalMiB: number; externalMiB: number; arrayBuffersMiB: number;
  /** Median heap used in the last quarter of the samples minus that in the second quarter (as procmon.ts for RSS). */
  heapUsedGrowthMiB: number;
}

const MiB = 1024 * 1024;
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[s.length >> 1] : NaN; };

export async function readHeaps(file: string): Promise<ThreadHeap[]> {
  const samples = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Sample);
  const threads = new Map<string, Sample[]>();
  for (const s of samples) threads.set(s.thread, [...(threads.get(s.thread) ?? []), s]);
  const last = Math.max(...samples.map((s) => s.t));
  return [...threads].map(([thread, xs]) => {
    const late = xs.slice(Math.floor(xs.length / 2));
    const quarter = (n: number) => xs.slice(Math.floor((xs.length * n) / 4), Math.floor((xs.length * (n + 1)) / 4)).map((s) => s.heapUsed);
    return {
      thread,
      ended: xs.at(-1)!.t < last - 5000,
      heapUsedMiB: median(late.map((s) => s.heapUsed)) / MiB,
      heapTotalMiB: median(late.map((s) => s.heapTotal)) / MiB,
      peakHeapTotalMiB: Math.max(...xs.map((s) => s.heapTotal)) / MiB,
      externalMiB: median(late.map((s) => s.external)) / MiB,
      arrayBuffersMiB: median(late.map((s) => s.arrayBuffers)) / MiB,
      heapUsedGrowthMiB: (median(quarter(3)) - median(quarter(1))) / MiB,
    };
  });
}

export function describeHeaps(heaps: ThreadHeap[]): string {
  return heaps.map((h) => `${h.thread}${h.ended ? ' (ended)' : ''}: heap ${h.heapUsedMiB.toFixed(0)} used / ${h.heapTotalMiB.toFixed(0)} reserved (peak ${h.peakHeapTotalMiB.toFixed(0)}, used growth ${h.heapUsedGrowthMiB >= 0 ? '+' : ''}${h.heapUsedGrowthMiB.toFixed(1)}), external ${h.externalMiB.toFixed(0)} (ArrayBuffers ${h.arrayBuffersMiB.toFixed(0)}) MiB`).join('; ');
}
