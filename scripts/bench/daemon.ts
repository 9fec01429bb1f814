// The daemon under test, as its own process: writes the run's configuration, gives it a fresh copy
// of a data folder whose classifier was trained on the corpus's train split, starts
// `mailmoat start` compiled to JavaScript as the image runs it (compiled/cli/mailmoat.js, built
// afresh by scripts/build-daemon.ts once per bench run; or the bare launcher from its sources, see
// bare-daemon.ts), waits for the "inbound SMTP listening on …:PORT" line, and stops it by its PID
// with SIGTERM. Node gets the flags and the environment the image starts the daemon with
// (systemd/mailmoat.service), so the memory measured is what ships.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Classifier } from '../../appliance/classifier/index.ts';
import type { CorpusMessage } from '../../appliance/classifier/sa-corpus.ts';
import { trainingOrder } from '../../appliance/classifier/sa-corpus.ts';
import { openStore } from '../../appliance/store/store.ts';
import { buildDaemon } from '../build-daemon.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const RCPT_DOMAIN = 'bench-rcpt.test';

export type DaemonMode = 'bare' | 'light' | 'full';

/** Trains a classifier on the train split into `dir` (one message at a time, as bench-accuracy does). */
export async function trainTemplate(dir: string, train: CorpusMessage[]): Promise<number> {
  const store = await openStore(dir);
  try {
    const classifier = await Classifier.open(store);
    let n = 0;
    for (const m of trainingOrder(train)) if (await classifier.train(m.raw, m.spam ? 'spam' : 'ham')) n++;
    return n;
  } finally {
    await store.close();
  }
}

function configFor(mode: DaemonMode, o: { sinkPort: number; dns: string; clamd?: string }): object {
  const filtering = mode === 'full'
    ? { antivirus: { enabled: true, clamd: o.clamd } }
    // the lightest honest setting: no clamd, every class accepted, no header stamping, no DMARC
    // enforcement (parse, SPF/DKIM/DMARC and the classifier still run: there is no switch for them)
    : { antivirus: { enabled: false }, rules: [], stampHeaders: false, dmarc: { honourReject: false, honourQuarantine: false } };
  return {
    hostname: 'mailmoat.bench.test',
    listeners: {
      inbound: { address: '127.0.0.1', port: 0 },
      submission: { address: '127.0.0.1', port: 0 },
      console: { address: '127.0.0.1', port: 0 },
    },
    domains: [{ name: RCPT_DOMAIN, routes: [{ host: '127.0.0.1', port: o.sinkPort, tls: 'none' }] }],
    limits: { maxConnections: 2000, maxConnectionsPerClient: 2000, maxMessagesPerMinutePerClient: 10_000_000 },
    delivery: { concurrency: 32 },
    relay: { resolver: [o.dns] },
    filtering,
  };
}

const unitFile = () => readFile(path.join(ROOT, 'systemd/mailmoat.service'), 'utf8');

/** The image's unit file's ExecStart: Node's own flags, and the script it runs (`…/mailmoat.js`). */
export async function shippedCommand(): Promise<{ flags: string[]; script: string }> {
  const unit = await unitFile();
  const exec = /^ExecStart=\S+\s(.*?)(\S*\/mailmoat\.js)\s/m.exec(unit);
  if (!exec) throw new Error('systemd/mailmoat.service: no ExecStart running mailmoat.js');
  return { flags: exec[1].split(/\s+/).filter(Boolean), script: exec[2] };
}

/** Node's own flags in the image's unit file: what comes between `node` and the script. */
export async function shippedNodeFlags(): Promise<string[]> {
  return (await shippedCommand()).flags;
}

let compiled: Promise<string> | undefined;

/** The environment the image's unit file gives the daemon (its `Environment=NAME=value` lines). */
export async function shippedEnvironment(): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const [, name, value] of (await unitFile()).matchAll(/^Environment=([A-Za-z_][A-Za-z0-9_]*)=(\S*)\s*$/gm)) env[name] = value;
  return env;
}

export interface RunningDaemon { pid: number; port: number; dataDir: string; stop(): Promise<void> }

export async function startDaemon(opts: {
  mode: DaemonMode; workDir: string; template: string; sinkPort: number; dns: string; clamd?: string; profileDir?: string;
  /** Where heap-sampler.js writes each thread's heap once a second (`--heap`); not loaded without it. */
  heapFile?: string;
  /** The file heap-sampler.js watches for snapshot labels (`--snapshots`, with `heapFile`). */
  snapshotRequest?: string;
  /** Node flags added after the unit file's (`--node-flags`: flags under trial, not shipped). */
  extraNodeFlags?: string[];
}): Promise<RunningDaemon> {
  const dataDir = path.join(opts.workDir, 'data');
  await mkdir(opts.workDir, { recursive: true });
  await cp(opts.template, dataDir, { recursive: true });
  const configFile = path.join(opts.workDir, 'config.json');
  await writeFile(configFile, JSON.stringify(configFor(opts.mode, opts), null, 2));
  const entry = opts.mode === 'bare' ? [path.join(ROOT, 'scripts/bench/bare-daemon.ts')]
    : [path.join(await (compiled ??= buildDaemon()), 'cli/mailmoat.js'), 'start'];
  const nodeArgs = [...await shippedNodeFlags(), ...(opts.extraNodeFlags ?? []), ...(opts.profileDir ? ['--cpu-prof', '--cpu-prof-dir', opts.profileDir] : []),
    ...(opts.heapFile ? ['--import', path.join(ROOT, 'scripts/bench/heap-sampler.js')] : [])];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, ...entry, '--config', configFile, '--data', dataDir], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...await shippedEnvironment(), ...(opts.heapFile ? { MAILMOAT_BENCH_HEAP: opts.heapFile } : {}),
      ...(opts.snapshotRequest ? { MAILMOAT_BENCH_SNAPSHOT: opts.snapshotRequest } : {}) },
  });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not listen within 60 s:\n${output}`)), 60_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /inbound SMTP listening on [^\s]+:(\d+)/.exec(output);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`daemon exited (${code}) while starting:\n${output}`)); });
  });
  const pid = child.pid!;
  return {
    pid, port, dataDir,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => { if (child.exitCode === null) process.kill(pid, 'SIGKILL'); }, 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
