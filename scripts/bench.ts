// `npm run bench`: throughput, CPU and latency of the daemon over SMTP on 127.0.0.1, in the same
// run as Postfix when it is installed (issue 2) and against the peers' filtering stacks (issue 3).
//
//   bare     the daemon's mail path with the pipeline replaced by "deliver" (scripts/bench/bare-daemon.ts)
//   light    `mailmoat start` with the lightest configuration (no clamd, every class accepted)
//   full     `mailmoat start` with clamd, SPF/DKIM/DMARC against a loopback DNS, the classifier
//            trained on the corpus's train split, spam quarantined
//   postfix  Debian's Postfix relaying to the same sink (skipped when not installed)
//   rspamd   the peers' filtering stack: Postfix + rspamd (milter) + redis Bayes + the same clamd
//            (scripts/bench/rspamd.ts; skipped when rspamd, redis or Postfix is not installed)
//
// Every target runs at each concurrency with the same corpus, load generator and sink; fsync is on
// everywhere. The machine is shared: each run first waits (bounded) for it to be quiet, and prints
// the CPU share that was "not ours". Raw results go to bench-results/<time>.json.
//   node scripts/bench.ts [--count 3000] [--warmup 200] [--concurrency 8,32]
//                         [--targets postfix,rspamd,bare,light,full] [--quick] [--profile] [--heap] [--mutate PCT]
//                         [--soak] [--minutes M] [--snapshots PCT,PCT] [--node-flags="FLAGS"]
// --heap samples each daemon thread's V8 heap once a second (scripts/bench/heap-sampler.js) and
// reports the steady state per thread. --mutate PCT sends that share of the corpus as mutants, each
// from a sender domain of its own (scripts/bench/corpus.ts): the mix for a memory soak.
// --soak is issue 12's memory soak in one command: the full daemon, 200 000 messages at c=16, a
// quarter mutated, with --heap; each of those can still be given (e.g. --count 50000). It prints
// the RSS of each tenth of the run and the growth from the first quarter to the last. It is not
// resumable on purpose: a restarted daemon starts its memory afresh, so a soak is one daemon's run;
// --minutes M bounds it in time instead (no new message after M minutes; the report says how many
// were sent), for a loaded box.
// --snapshots 25,95 has every daemon thread write a V8 heap snapshot when that share of the
// measured messages is answered, or of --minutes has passed if sooner (into
// bench-results/snapshots-<time>/; scripts/bench/snapshot-diff.ts compares two by constructor).
// Writing one takes a few hundred MiB of malloc memory that glibc keeps, so the RSS figures of a
// run with snapshots are not the daemon's: measure memory in a run without them. --node-flags adds Node flags after the unit file's, for trying flags
// that do not ship (e.g. --node-flags="--heap-growing-percent=30 --max-semi-space-size=8").
import { writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startClamd, type ClamdInstance } from '../test/helpers/clamd.ts';
import { prepareCorpus } from './bench/corpus.ts';
import { RCPT_DOMAIN, startDaemon, trainTemplate, type DaemonMode } from './bench/daemon.ts';
import { startBenchDns } from './bench/dns.ts';
import { postfixInstalled, startPostfix } from './bench/postfix.ts';
import { rspamdInstalled, rspamdStackGroup, startRspamdStack, type RspamdStack } from './bench/rspamd.ts';
import { busyPct } from './bench/procmon.ts';
import { render } from './bench/report.ts';
import { measure, type RunResult, type Target } from './bench/run.ts';
import { startSink } from './bench/sink-client.ts';
import { freePort } from './bench/free-port.ts';
import { describeHeaps, readHeaps } from './bench/heap.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values: a } = parseArgs({
  options: {
    count: { type: 'string' }, warmup: { type: 'string' }, concurrency: { type: 'string' },
    targets: { type: 'string' }, quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false }, heap: { type: 'boolean' }, mutate: { type: 'string' },
    soak: { type: 'boolean', default: false }, snapshots: { type: 'string' }, 'node-flags': { type: 'string' }, minutes: { type: 'string' },
  },
  strict: true,
});
const count = Number(a.count ?? (a.soak ? 200_000 : a.quick ? 500 : 3000));
const warmup = Number(a.warmup ?? (a.quick ? 100 : 200));
const concurrencies = (a.concurrency ?? (a.soak ? '16' : '8,32')).split(',').map(Number);
const targets = (a.targets ?? (a.soak ? 'full' : 'postfix,rspamd,bare,light,full')).split(',');
const mutatePct = Number(a.mutate ?? (a.soak ? 25 : 0));
const snapshotsAt = a.snapshots ? a.snapshots.split(',').map(Number) : [];
const heap = a.heap ?? (a.soak || snapshotsAt.length > 0);
const extraNodeFlags = a['node-flags']?.split(/\s+/).filter(Boolean) ?? [];
const maxMs = a.minutes ? Number(a.minutes) * 60_000 : undefined;
const quietWaitS = a.quick ? 10 : 60;
const say = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);


/** Waits up to `maxS` for the machine to be ≤ 20 % busy; returns the last busy % seen. */
async function waitQuiet(maxS: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const busy = await busyPct(2000);
    if (busy <= 20 || Date.now() - t0 > maxS * 1000) return busy;
    say(`machine ${busy.toFixed(0)} % busy (not us), waiting…`);
  }
}

const outDir = path.join(ROOT, 'bench-results');
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const work = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-bench-'));
const cleanups: (() => Promise<void>)[] = [];
const cleanUp = async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch((err: Error) => console.error(`cleanup: ${err.message}`));
  await rm(work, { recursive: true, force: true });
};
// interrupted: stop what we started (daemon, Postfix, sink, clamd) before leaving
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { cleanUp().finally(() => process.exit(130)); });
try {
  say('preparing the corpus (test split, DKIM-signed) and training the classifier on the train split…');
  const corpus = await prepareCorpus();
  const template = path.join(work, 'template');
  const learned = await trainTemplate(template, corpus.train);
  const messages = corpus.mutate(mutatePct);
  say(`${messages.length} test messages (${messages.filter((m) => m.spam).length} spam, ${corpus.signed} DKIM-signed, ${messages.filter((m) => m.mutated).length} mutated); classifier learned ${learned} of ${corpus.train.length}`);

  const dns = await startBenchDns(corpus.dkimPublicKey);
  cleanups.push(() => dns.close());
  const sink = await startSink();
  cleanups.push(() => sink.stop());
  let clamd: ClamdInstance | undefined;
  if (targets.includes('full') || targets.includes('rspamd')) {
    clamd = await startClamd({ tcp: true });
    cleanups.push(() => clamd!.stop());
  }
  const extraGroups = (pid: number) => pid === process.pid ? 'bench' : pid === sink.pid ? 'sink' : pid === clamd?.pid ? 'clamd' : undefined;

  const runs: RunResult[] = [];
  const notes: string[] = [];
  let postfixMeasured = false;
  let rspamdMeasured = false;
  let seq = 0;
  for (const name of targets) {
    if (name === 'postfix' && !postfixInstalled()) { notes.push('Postfix is not installed: its figures below are the reference ones'); continue; }
    if (name === 'rspamd' && !rspamdInstalled()) { notes.push('rspamd, redis or Postfix is not installed (apt-get install rspamd redis-server postfix): its figures below are the reference ones'); continue; }
    let stack: RspamdStack | undefined;
    if (name === 'rspamd') {
      say('starting the rspamd stack (redis, rspamd trained on the train split, Postfix with rspamd as milter)…');
      stack = await startRspamdStack({ work: path.join(work, 'rspamd'), sinkPort: sink.port, dns: dns.address, clamdTcp: clamd!.tcp!, train: corpus.train, say });
      cleanups.push(stack.stop);
    }
    for (const concurrency of concurrencies) {
      let heapFile: string | undefined;
      let snapshotRequest: string | undefined;
      const busyBefore = await waitQuiet(quietWaitS);
      let target: Target;
      if (name === 'postfix') {
        const backupDir = path.join(work, `postfix-etc-${concurrency}`);
        await mkdir(backupDir);
        const pf = await startPostfix({ port: await freePort(), sinkPort: sink.port, backupDir });
        target = { name, port: pf.port, group: 'postfix', classify: (_pid, exe) => exe.startsWith('/usr/lib/postfix/') ? 'postfix' : undefined, stop: () => pf.stop() };
        postfixMeasured = true;
      } else if (stack) {
        // the whole stack, clamd included, as the peers counted "stack CPU"
        target = { name, port: stack.port, group: 'stack', classify: (pid, exe) => (pid === clamd?.pid || rspamdStackGroup(exe) ? 'stack' : undefined), stop: async () => {} };
        rspamdMeasured = true;
      } else {
        const profileDir = a.profile && name !== 'bare' ? path.join(outDir, 'profiles') : undefined;
        heapFile = heap ? path.join(work, `heap-${name}-c${concurrency}.jsonl`) : undefined;
        if (snapshotsAt.length) {
          const dir = path.join(outDir, `snapshots-${stamp}`, `${name}-c${concurrency}`);
          await mkdir(dir, { recursive: true });
          snapshotRequest = path.join(dir, 'request');
        }
        const d = await startDaemon({ mode: name as DaemonMode, workDir: path.join(work, `${name}-c${concurrency}`), template, sinkPort: sink.port, dns: dns.address, clamd: clamd?.socket, profileDir, heapFile, snapshotRequest, extraNodeFlags });
        target = { name, port: d.port, group: 'daemon', dataDir: d.dataDir, classify: (pid) => pid === d.pid ? 'daemon' : undefined, stop: () => d.stop() };
      }
      say(`${name} c=${concurrency}: warm-up ${warmup}, then ${count} messages${maxMs ? ` or ${a.minutes} minutes` : ''} (machine was ${busyBefore.toFixed(0)} % busy before, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')})${extraNodeFlags.length ? `, extra Node flags ${extraNodeFlags.join(' ')}` : ''}`);
      cleanups.push(() => target.stop());
      // how far the run is: by messages, or by time when --minutes bounds it sooner
      const t0 = Date.now();
      const progress = (done: number) => Math.max(done / count, maxMs ? (Date.now() - t0) / maxMs : 0);
      const pending = snapshotsAt.map((p) => ({ label: `at-${p}pct`, share: p / 100 }));
      let tenth = 0;
      const onDone = (done: number) => {
        const now = progress(done);
        if ((count >= 20_000 || maxMs) && Math.floor(now * 10) > tenth) { tenth = Math.floor(now * 10); say(`  ${tenth * 10} % of the run: ${done} messages answered`); }
        if (!snapshotRequest || !pending.length || now < pending[0].share) return;
        const { label } = pending.shift()!;
        say(`  ${done} messages answered: each daemon thread writes its heap snapshot ${label}`);
        writeFileSync(snapshotRequest, label);
      };
      const r = await measure({ target, concurrency, count, warmup, firstSeq: seq, messages, rcptDomain: RCPT_DOMAIN, sink, extraGroups, onDone, maxMs });
      cleanups.pop();
      seq += count + warmup;
      if (heapFile) r.heaps = await readHeaps(heapFile);
      runs.push(r);
      say(`  ${r.handledPerS.toFixed(1)} msg/s handled, ${r.cpuMsPerMsg.toFixed(2)} CPU ms/msg, EOD p50 ${r.eodMs.p50.toFixed(1)} / p99 ${r.eodMs.p99.toFixed(1)} ms, ` +
        `RSS peak ${r.peakRssMiB.toFixed(0)} / steady ${r.steadyRssMiB.toFixed(0)} MiB (growth ${r.growthRssMiB >= 0 ? '+' : ''}${r.growthRssMiB.toFixed(0)}), delivered ${r.delivered} (${r.stamped} with a verdict header), quarantined ${r.quarantined}, lost ${r.missing + r.quarantineFilesMissing}, not ours ${r.usage.notOursPct.toFixed(1)} %` +
        (Object.keys(r.failed).length ? `, failed ${JSON.stringify(r.failed)}` : ''));
      if (r.heaps) say(`  ${describeHeaps(r.heaps)}`);
      if (snapshotsAt.length) say('  (heap snapshots were written: the RSS figures from the first one on include the malloc memory the snapshot writer took)');
      if (a.soak) say(`  RSS MiB by tenth of the run: ${r.rssTenthsMiB.map((x) => x.toFixed(0)).join(' ')}; first quarter to last ${r.growthFirstToLastMiB >= 0 ? '+' : ''}${r.growthFirstToLastMiB.toFixed(0)} MiB`);
    }
    if (stack) {
      cleanups.splice(cleanups.indexOf(stack.stop), 1);
      await stack.stop();
    }
  }

  console.log('\n' + render(runs, { postfix: postfixMeasured, rspamd: rspamdMeasured }));
  for (const n of notes) console.log(n);
  await mkdir(outDir, { recursive: true });
  const file = path.join(outDir, `bench-${stamp}.json`);
  await writeFile(file, JSON.stringify({
    date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, count, warmup, concurrencies, extraNodeFlags, loadAverage: os.loadavg(),
    corpus: { messages: messages.length, spam: messages.filter((m) => m.spam).length, dkimSigned: corpus.signed, mutated: messages.filter((m) => m.mutated).length, trained: learned },
    notes, runs,
  }, null, 2) + '\n');
  console.log(`\nraw results: ${path.relative(ROOT, file)}`);
  const lost = runs.reduce((n, r) => n + r.missing + r.quarantineFilesMissing + r.duplicates, 0);
  if (lost) { console.error(`VERIFICATION FAILED: ${lost} accepted message(s) lost or duplicated`); process.exitCode = 1; }
} finally {
  await cleanUp();
}
