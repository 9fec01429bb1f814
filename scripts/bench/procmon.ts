// CPU and memory of the processes a benchmark run cares about, read from /proc (Linux).
//
// Each process is put in a named group by `classify` (the daemon, Postfix's many processes, clamd,
// the bench itself…). CPU of a group = the utime+stime each of its processes spent during the
// window (processes born inside it count from zero) plus what exited children cost, as their
// parent's cutime+cstime grows when it reaps them; a reaped child that was itself sampled is
// subtracted so it is not counted twice. Memory = the group's summed RSS at each sample: its peak,
// and its steady state = the median of the samples in the run's second half (start-up and warm
// caches are behind by then; a median ignores a single burst, so growth shows as a rising median);
// its growth = the median of the last quarter's samples minus that of the second quarter's.
// The machine's busy time comes from /proc/stat; what is busy but in no group is "not ours"
// (other tenants, plus kernel softirq for loopback traffic).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';

const TICKS_PER_S = 100; // USER_HZ

export type Classify = (pid: number, exe: string) => string | undefined;

export interface GroupUsage {
  cpuSeconds: number; peakRssMiB: number; steadyRssMiB: number; growthRssMiB: number; maxProcs: number;
  /** Median RSS of each tenth of the run, in order (a soak's course). */
  rssTenthsMiB: number[];
  /** Median RSS of the last quarter minus that of the first (a soak's whole growth, warm caches included). */
  growthFirstToLastMiB: number;
}
export interface Usage {
  seconds: number;
  machineBusyPct: number;
  /** Share of the whole machine (all cores) busy outside every group. */
  notOursPct: number;
  groups: Record<string, GroupUsage>;
}

interface Tracked { group: string; ppid: number; first: number; last: number; seen: number }

function stat(pid: number): { cpu: number; reaped: number; ppid: number; rssKiB: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // after "(comm) ": state ppid … utime(11) stime(12) cutime(13) cstime(14) … rss pages(21)
    return { ppid: Number(f[1]), cpu: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]), rssKiB: Number(f[21]) * 4 };
  } catch {
    return undefined;
  }
}

function machine(): { busy: number; total: number } {
  const v = readFileSync('/proc/stat', 'latin1').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - v[3] - v[4], total };
}

/** Machine busy % over `ms` (all cores). */
export async function busyPct(ms: number): Promise<number> {
  const a = machine();
  await new Promise((r) => setTimeout(r, ms));
  const b = machine();
  return (100 * (b.busy - a.busy)) / Math.max(1, b.total - a.total);
}

export class ProcMon {
  readonly #classify: Classify;
  readonly #tracked = new Map<number, Tracked & { rFirst: number; rLast: number }>();
  readonly #peak = new Map<string, { rss: number; procs: number }>();
  /** Each group's summed RSS (KiB) at every sample, in order. */
  readonly #rss = new Map<string, number[]>();
  readonly #exe = new Map<number, string>();
  #round = 0;
  #timer?: NodeJS.Timeout;
  #t0 = 0;
  #m0 = machine();

  constructor(classify: Classify) {
    this.#classify = classify;
  }

  start(intervalMs = 500): void {
    this.#t0 = performance.now();
    this.#m0 = machine();
    this.#sample(true);
    this.#timer = setInterval(() => this.#sample(false), intervalMs);
  }

  stop(): Usage {
    clearInterval(this.#timer);
    this.#sample(false);
    const seconds = (performance.now() - this.#t0) / 1000;
    const m1 = machine();
    const groups: Record<string, GroupUsage> = {};
    let oursTicks = 0;
    for (const [, t] of this.#tracked) {
      let ticks = t.last - t.first + t.rLast - t.rFirst;
      const parent = this.#tracked.get(t.ppid);
      // gone before the end and reaped by a tracked parent: the parent's cutime holds it already
      if (t.seen < this.#round && parent && parent.seen === this.#round) ticks -= t.last + t.rLast;
      oursTicks += ticks;
      const g = groups[t.group] ??= { cpuSeconds: 0, peakRssMiB: 0, steadyRssMiB: 0, growthRssMiB: 0, maxProcs: 0, rssTenthsMiB: [], growthFirstToLastMiB: 0 };
      g.cpuSeconds += ticks / TICKS_PER_S;
    }
    for (const [name, g] of Object.entries(groups)) {
      const p = this.#peak.get(name);
      g.peakRssMiB = (p?.rss ?? 0) / 1024;
      const series = this.#rss.get(name) ?? [];
      g.steadyRssMiB = median(secondHalf(series)) / 1024;
      g.growthRssMiB = (median(quarter(series, 3)) - median(quarter(series, 1))) / 1024;
      g.maxProcs = p?.procs ?? 0;
      g.growthFirstToLastMiB = (median(quarter(series, 3)) - median(quarter(series, 0))) / 1024;
      g.rssTenthsMiB = Array.from({ length: 10 }, (_, i) => median(series.slice(Math.floor((series.length * i) / 10), Math.floor((series.length * (i + 1)) / 10))) / 1024);
    }
    const busyTicks = m1.busy - this.#m0.busy;
    const totalTicks = Math.max(1, m1.total - this.#m0.total);
    return {
      seconds,
      machineBusyPct: (100 * busyTicks) / totalTicks,
      notOursPct: (100 * (busyTicks - oursTicks)) / totalTicks,
      groups,
    };
  }

  #sample(initial: boolean): void {
    this.#round++;
    const sums = new Map<string, { rss: number; procs: number }>();
    for (const name of readdirSync('/proc')) {
      const pid = Number(name);
      if (!Number.isInteger(pid)) continue;
      let exe = this.#exe.get(pid);
      if (exe === undefined) {
        try { exe = readlinkSync(`/proc/${pid}/exe`); } catch { exe = ''; }
        this.#exe.set(pid, exe);
      }
      const known = this.#tracked.get(pid);
      const group = known?.group ?? this.#classify(pid, exe);
      if (!group) continue;
      const s = stat(pid);
      if (!s) continue;
      if (known) {
        known.last = s.cpu; known.rLast = s.reaped; known.seen = this.#round;
      } else {
        // present at the start: count from now; born during the window: count from zero
        this.#tracked.set(pid, { group, ppid: s.ppid, first: initial ? s.cpu : 0, last: s.cpu, rFirst: initial ? s.reaped : 0, rLast: s.reaped, seen: this.#round });
      }
      const sum = sums.get(group) ?? { rss: 0, procs: 0 };
      sum.rss += s.rssKiB; sum.procs++;
      sums.set(group, sum);
    }
    for (const [group, sum] of sums) {
      const series = this.#rss.get(group) ?? [];
      series.push(sum.rss);
      this.#rss.set(group, series);
      const p = this.#peak.get(group) ?? { rss: 0, procs: 0 };
      this.#peak.set(group, { rss: Math.max(p.rss, sum.rss), procs: Math.max(p.procs, sum.procs) });
    }
  }
}

function secondHalf(xs: number[]): number[] {
  return xs.slice(Math.floor(xs.length / 2));
}

/** The n-th quarter (0–3) of a series. */
function quarter(xs: number[], n: number): number[] {
  return xs.slice(Math.floor((xs.length * n) / 4), Math.floor((xs.length * (n + 1)) / 4));
}

function median(xs: number[]): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export const CPUS = os.cpus().length;
