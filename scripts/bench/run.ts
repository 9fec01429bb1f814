// One measured run against one target (the daemon in some mode, or Postfix) at one concurrency:
// warm-up (not measured, drained), then `count` messages with /proc sampling, then waiting until
// the sink has every accepted message. Checks every 250-accepted message arrived exactly once and
// every "held for review" reply has its quarantined file (found by the message's X-Bench-Seq, as
// the reply carries no quarantine id); returns the figures.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { WireMessage } from './corpus.ts';
import { runLoad, pct, type SendResult } from './loadgen.ts';
import { ProcMon, type Classify, type Usage } from './procmon.ts';
import type { SinkClient } from './sink-client.ts';
import type { ThreadHeap } from './heap.ts';

export interface Target {
  name: string;
  port: number;
  /** Group name of the measured component in the /proc usage ("daemon" or "postfix"). */
  group: string;
  classify: Classify;
  /** Folder whose quarantine/ holds quarantined messages (the daemon's data folder). */
  dataDir?: string;
  stop(): Promise<void>;
}

export interface RunResult {
  target: string;
  concurrency: number;
  sent: number;
  accepted: number;
  quarantined: number;
  failed: Record<string, number>;
  delivered: number;
  /** Deliveries carrying the filter's verdict header (X-Mailmoat-Class / X-Spamd-Result). */
  stamped: number;
  missing: number;
  duplicates: number;
  quarantineFilesMissing: number;
  seconds: number;
  deliveredPerS: number;
  handledPerS: number;
  cpuMsPerMsg: number;
  eodMs: { p50: number; p99: number; max: number };
  e2eMs: { p50: number; p99: number };
  peakRssMiB: number;
  /** Median RSS over the second half of the run (see procmon.ts). */
  steadyRssMiB: number;
  /** Median RSS of the run's last quarter minus that of its second quarter (see procmon.ts). */
  growthRssMiB: number;
  /** Median RSS of each tenth of the run. */
  rssTenthsMiB: number[];
  /** Median RSS of the last quarter minus that of the first. */
  growthFirstToLastMiB: number;
  usage: Usage;
  /** Each daemon thread's heap in the steady state (`--heap` only). */
  heaps?: ThreadHeap[];
}

const now = () => performance.timeOrigin + performance.now();
const QUARANTINED = /held for review/;

/** The X-Bench-Seq of every message in a quarantine folder. */
async function quarantinedSeqs(dir: string): Promise<Set<number>> {
  const seqs = new Set<number>();
  const names = dir ? await readdir(dir).catch(() => []) : [];
  for (const name of names.filter((n) => n.endsWith('.eml'))) {
    const m = /^X-Bench-Seq: (\d+)\r?$/m.exec((await readFile(path.join(dir, name))).subarray(0, 64 * 1024).toString('latin1'));
    if (m) seqs.add(Number(m[1]));
  }
  return seqs;
}

async function drain(sink: SinkClient, expected: number, maxMs: number): Promise<{ count: number; last: number; dupes: number; stamped: number }> {
  const t0 = Date.now();
  let seen = -1; let changed = Date.now();
  for (;;) {
    const st = await sink.stats();
    if (st.count >= expected || Date.now() - t0 > maxMs || Date.now() - changed > 60_000) return st;
    if (st.count !== seen) { seen = st.count; changed = Date.now(); }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function measure(o: {
  target: Target; concurrency: number; count: number; warmup: number; firstSeq: number;
  messages: WireMessage[]; rcptDomain: string; sink: SinkClient; extraGroups: Classify;
  /** Called with the number of measured messages answered so far (not during the warm-up). */
  onDone?: (done: number) => void;
  /** The measured messages stop being sent after this long (ms); fewer than `count` are then sent. */
  maxMs?: number;
}): Promise<RunResult> {
  const load = (first: number, count: number, onDone?: (done: number) => void, until?: number) => runLoad({ port: o.target.port, concurrency: o.concurrency, first, count, messages: o.messages, rcptDomain: o.rcptDomain, onDone, until });
  if (o.warmup > 0) {
    await o.sink.reset();
    const w = await load(o.firstSeq + o.count, o.warmup);
    await drain(o.sink, w.filter((r) => r.code === 250).length, 120_000);
  }
  await o.sink.reset();
  const mon = new ProcMon((pid, exe) => o.target.classify(pid, exe) ?? o.extraGroups(pid, exe));
  mon.start();
  const t0 = now();
  const results = await load(o.firstSeq, o.count, o.onDone, o.maxMs ? Date.now() + o.maxMs : undefined);
  const tReplies = Math.max(...results.map((r) => r.eodAt + r.eodMs));
  const accepted = results.filter((r) => r.code === 250);
  const st = await drain(o.sink, accepted.length, 600_000);
  const usage = mon.stop();

  // only this run's measured messages count (a straggler from the warm-up is not a delivery)
  const arrivals = new Map([...await o.sink.seqs()].filter(([seq]) => seq >= o.firstSeq && seq < o.firstSeq + o.count));
  const delivered = arrivals.size;
  const lastArrival = Math.max(0, ...arrivals.values());
  const missing = accepted.filter((r) => !arrivals.has(r.seq)).length;
  const quarantined = results.filter((r) => r.code >= 500 && QUARANTINED.test(r.text));
  const failed: Record<string, number> = {};
  for (const r of results) {
    if (r.code === 250 || quarantined.includes(r)) continue;
    const key = `${r.code} ${r.text.slice(0, 70)}`;
    failed[key] = (failed[key] ?? 0) + 1;
  }
  await o.target.stop();
  const qDir = o.target.dataDir ? path.join(o.target.dataDir, 'quarantine') : '';
  const held = await quarantinedSeqs(qDir);
  const quarantineFilesMissing = quarantined.filter((r) => !held.has(r.seq)).length;

  const end = Math.max(lastArrival, tReplies);
  const seconds = (end - t0) / 1000;
  const handled = delivered + quarantined.length;
  const g = usage.groups[o.target.group];
  const timed = (rs: SendResult[]) => rs.map((r) => r.eodMs);
  const e2e = accepted.filter((r) => arrivals.has(r.seq)).map((r) => arrivals.get(r.seq)! - r.eodAt);
  return {
    target: o.target.name,
    concurrency: o.concurrency,
    sent: results.length,
    accepted: accepted.length,
    quarantined: quarantined.length,
    failed,
    delivered,
    stamped: st.stamped,
    missing,
    duplicates: st.dupes,
    quarantineFilesMissing,
    seconds,
    deliveredPerS: lastArrival ? delivered / ((lastArrival - t0) / 1000) : 0,
    handledPerS: handled / seconds,
    cpuMsPerMsg: g ? (g.cpuSeconds * 1000) / Math.max(1, handled) : NaN,
    eodMs: { p50: pct(timed([...accepted, ...quarantined]), 50), p99: pct(timed([...accepted, ...quarantined]), 99), max: pct(timed([...accepted, ...quarantined]), 100) },
    e2eMs: { p50: pct(e2e, 50), p99: pct(e2e, 99) },
    peakRssMiB: g?.peakRssMiB ?? NaN,
    steadyRssMiB: g?.steadyRssMiB ?? NaN,
    growthRssMiB: g?.growthRssMiB ?? NaN,
    rssTenthsMiB: g?.rssTenthsMiB ?? [],
    growthFirstToLastMiB: g?.growthFirstToLastMiB ?? NaN,
    usage,
  };
}
