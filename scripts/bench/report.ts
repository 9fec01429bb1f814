// The end-of-run table, the peers' reference figures (marked as not measured in this run) and the
// targets of issues 2 and 3 checked against what was measured.
import type { RunResult } from './run.ts';

/** From ../shared/peers/RESULTS.md (same machine, earlier runs): delivered msg/s, stack CPU ms/msg, EOD ms. */
export const REFERENCE = [
  { target: 'postfix (reference)', concurrency: 8, perS: '545–559', cpu: '2.7', eod: '6.2–6.5 / 26–30' },
  { target: 'postfix (reference)', concurrency: 32, perS: '540–669', cpu: '2.2–2.7', eod: '9.9–13.6 / 51–57' },
  { target: 'rspamd+clamd (reference)', concurrency: 8, perS: '115–126', cpu: '9.1', eod: '58–63 / 85–101' },
  { target: 'rspamd+clamd (reference)', concurrency: 32, perS: '159–168', cpu: '9.5', eod: '175–186 / 278–296' },
  { target: 'amavis+SA+clamd (reference)', concurrency: 8, perS: '15.9–16.4', cpu: '115–118', eod: 'after-queue' },
  { target: 'amavis+SA+clamd (reference)', concurrency: 32, perS: '15.4–15.6', cpu: '120–122', eod: 'after-queue' },
];
const RSPAMD_C32_PER_S = 167; // rspamd_c32_r3, the reference run with complete CPU accounting

const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');

function table(rows: string[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r, j) => r.map((c, i) => c.padEnd(w[i])).join('  ') + (j === 0 ? '\n' + w.map((n) => '-'.repeat(n)).join('  ') : '')).join('\n');
}

export function render(runs: RunResult[], measured: { postfix: boolean; rspamd: boolean }): string {
  const head = ['target', 'conc', 'sent', 'delivered', 'quarant.', 'failed', 'lost', 'handled/s', 'delivered/s', 'CPU ms/msg', 'EOD p50/p99 ms', 'e2e p50/p99 ms', 'RSS MiB peak/steady/growth', 'busy %', 'not ours %'];
  const rows = [head];
  for (const r of runs) {
    const failed = Object.values(r.failed).reduce((a, b) => a + b, 0);
    rows.push([r.target, String(r.concurrency), String(r.sent), String(r.delivered), String(r.quarantined), String(failed),
      String(r.missing + r.quarantineFilesMissing), f(r.handledPerS), f(r.deliveredPerS), f(r.cpuMsPerMsg, 2),
      `${f(r.eodMs.p50)} / ${f(r.eodMs.p99)}`, `${f(r.e2eMs.p50)} / ${f(r.e2eMs.p99)}`, `${f(r.peakRssMiB, 0)} / ${f(r.steadyRssMiB, 0)} / ${r.growthRssMiB >= 0 ? '+' : ''}${f(r.growthRssMiB, 0)}`,
      f(r.usage.machineBusyPct, 0), f(r.usage.notOursPct, 1)]);
  }
  const lines = [table(rows)];
  lines.push('', 'handled = delivered to the sink + quarantined (answered 550 "held for review"); lost = accepted but never at the sink, or a quarantine reply without its file.',
    'CPU ms/msg: the measured processes only (the daemon; all Postfix processes; for rspamd the whole stack: Postfix, rspamd, redis and clamd),',
    'utime+stime incl. reaped children, per handled message.');
  for (const r of runs.filter((x) => x.target === 'full')) {
    const clamd = r.usage.groups.clamd;
    if (clamd) lines.push(`full c=${r.concurrency} with clamd's CPU (the rspamd row's way of counting): ${f(r.cpuMsPerMsg + (clamd.cpuSeconds * 1000) / Math.max(1, r.delivered + r.quarantined), 2)} CPU ms/msg`);
  }
  const ref = REFERENCE.filter((r) => !(measured.postfix && r.target.startsWith('postfix')) && !(measured.rspamd && r.target.startsWith('rspamd')));
  lines.push('', 'Reference, NOT measured in this run (../shared/peers/RESULTS.md, same machine, stacks tag only):',
    table([['stack', 'conc', 'delivered msg/s', 'stack CPU ms/msg', 'EOD p50 / p99 ms'], ...ref.map((r) => [r.target, String(r.concurrency), r.perS, r.cpu, r.eod])]));
  lines.push('', 'Targets:', ...targets(runs));
  return lines.join('\n');
}

function targets(runs: RunResult[]): string[] {
  const find = (t: string, c: number) => runs.find((r) => r.target === t && r.concurrency === c);
  const out: string[] = [];
  const mark = (ok: boolean) => (ok ? 'MET   ' : 'MISSED');
  for (const c of [8, 32]) {
    const pf = find('postfix', c);
    const pfPerS = pf?.deliveredPerS ?? (c === 8 ? 552 : 605); // reference midpoints when not measured
    const src = pf ? 'measured' : 'reference';
    // issue 2's targets are for the mail path without filtering: the bare target
    const r = find('bare', c);
    if (!r) continue;
    out.push(`${mark(r.deliveredPerS >= 0.8 * pfPerS)} issue 2, bare c=${c}: ${f(r.deliveredPerS)} msg/s ≥ 0.8 × Postfix ${f(pfPerS)} (${src}) = ${f(0.8 * pfPerS)}`);
    out.push(`${mark(r.cpuMsPerMsg <= 3)} issue 2, bare c=${c}: ${f(r.cpuMsPerMsg, 2)} CPU ms/msg ≤ 3`);
  }
  const f32 = find('full', 32);
  if (f32) {
    const rs = find('rspamd', 32);
    const base = rs?.deliveredPerS ?? RSPAMD_C32_PER_S;
    out.push(`${mark(f32.handledPerS >= 1.5 * base)} issue 3, full c=32: ${f(f32.handledPerS)} msg/s ≥ 1.5 × rspamd ${f(base)} (${rs ? 'measured in this run' : 'reference'}) = ${f(1.5 * base)}`);
  }
  for (const r of runs.filter((x) => x.target === 'full')) out.push(`${mark(r.cpuMsPerMsg <= 6)} issue 3, full c=${r.concurrency}: ${f(r.cpuMsPerMsg, 2)} CPU ms/msg ≤ 6`);
  const f8 = find('full', 8);
  if (f8) out.push(`${mark(f8.eodMs.p99 < 100)} issue 3, full c=8: EOD p99 ${f(f8.eodMs.p99)} ms < 100`);
  return out;
}
