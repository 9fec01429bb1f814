// The peers' filtering stack, measured in the same run as the daemon: Postfix with rspamd's proxy
// worker as a before-queue milter, one rspamd normal worker, Bayes in a private redis trained on
// the corpus's train split, and rspamd's antivirus module sending every whole message to the
// bench's clamd. Configured as ../shared/peers configured it (README, "Benchmarks"): tag only
// (every message reaches the sink), network modules off, DNS to the bench's loopback server.
//
// Nothing under /etc/rspamd is touched: rspamd is started with LOCAL_CONFDIR (local.d) and its
// run/db/log folders pointed into the bench's work folder. Redis and rspamd are stopped by PID.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { CorpusMessage } from '../../appliance/classifier/sa-corpus.ts';
import { postfixInstalled, startPostfix } from './postfix.ts';
import { freePort } from './free-port.ts';

const execFileP = promisify(execFile);

export function rspamdInstalled(): boolean {
  return postfixInstalled() && ['/usr/bin/rspamd', '/usr/bin/rspamc', '/usr/bin/redis-server'].every((f) => existsSync(f));
}

/** Which measured group a process of this stack belongs to. */
export function rspamdStackGroup(exe: string): string | undefined {
  if (exe.startsWith('/usr/lib/postfix/')) return 'postfix';
  if (exe === '/usr/bin/rspamd') return 'rspamd';
  // Debian's redis-server is a symlink to redis-check-rdb
  if (/\/redis-(server|check-rdb)$/.test(exe)) return 'redis';
  return undefined;
}


async function waitPort(port: number, what: string, child: ChildProcess, seconds = 120): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}) while starting`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on 127.0.0.1:${port} within ${seconds} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

function localConfig(p: { dns: string; redis: number; clamd: string; proxy: number; normal: number; controller: number; logDir: string }): Record<string, string> {
  const off = 'enabled = false;\n';
  return {
    'options.inc': `dns {\n  nameserver = ["${p.dns}"];\n  timeout = 1s;\n  retransmits = 1;\n}\n`,
    'logging.inc': `type = "file";\nfilename = "${p.logDir}/rspamd.log";\nlevel = "warning";\n`,
    'worker-normal.inc': `bind_socket = "127.0.0.1:${p.normal}";\ncount = 1;\n`,
    'worker-controller.inc': `bind_socket = "127.0.0.1:${p.controller}";\n`,
    'worker-proxy.inc': `bind_socket = "127.0.0.1:${p.proxy}";\nmilter = yes;\ntimeout = 120s;\nupstream "local" {\n  default = yes;\n  hosts = "127.0.0.1:${p.normal}";\n}\n`,
    'worker-fuzzy.inc': off,
    'redis.conf': `servers = "127.0.0.1:${p.redis}";\n`,
    'classifier-bayes.conf': `backend = "redis";\nservers = "127.0.0.1:${p.redis}";\nautolearn = false;\n`,
    // tag only, as the peers ran it: every message reaches the sink
    'actions.conf': 'reject = null;\ngreylist = null;\nadd_header = 6;\n',
    'milter_headers.conf': 'use = ["x-spamd-result", "x-spam-status"];\nskip_local = false;\nskip_authenticated = false;\n',
    // the whole message to clamd for every message, no result cache (the corpus is replayed)
    'antivirus.conf': `clamav {\n  type = "clamav";\n  servers = "${p.clamd}";\n  symbol = "CLAM_VIRUS";\n  action = "reject";\n  scan_mime_parts = false;\n  log_clean = false;\n  no_cache = true;\n  max_size = 20971520;\n  timeout = 15.0;\n  retransmits = 1;\n}\n`,
    // the corpus is from 2002: DATE_IN_PAST would add +1 to every message
    'groups.conf': 'group "headers" {\n  symbols {\n    "DATE_IN_PAST" { weight = 0.0; }\n  }\n}\n',
    'hfilter.conf': 'helo_enabled = false;\nhostname_enabled = false;\nfrom_enabled = false;\n',
    'phishing.conf': 'phishtank_enabled = false;\n',
    ...Object.fromEntries(['arc', 'asn', 'bimi', 'dcc', 'dkim', 'dmarc', 'emails', 'fuzzy_check', 'greylist', 'mx_check', 'neural', 'p0f',
      'ratelimit', 'rbl', 'replies', 'reputation', 'rspamd_update', 'spf', 'surbl', 'url_redirector'].map((m) => [`${m}.conf`, off])),
  };
}

export interface RspamdStack { port: number; stop(): Promise<void> }

/** Starts redis, rspamd (trained on `train`) and Postfix with rspamd as milter; `say` reports progress. */
export async function startRspamdStack(o: {
  work: string; sinkPort: number; dns: string; clamdTcp: string; train: CorpusMessage[]; say: (line: string) => void;
}): Promise<RspamdStack> {
  const dirs = { local: path.join(o.work, 'local'), run: path.join(o.work, 'run'), db: path.join(o.work, 'db'), log: path.join(o.work, 'log'), redis: path.join(o.work, 'redis') };
  for (const d of Object.values(dirs)) await mkdir(d, { recursive: true });
  await mkdir(path.join(dirs.local, 'local.d'), { recursive: true });
  const [redisPort, proxy, normal, controller, smtp] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const children: ChildProcess[] = [];
  let postfix: { stop(): Promise<void> } | undefined;
  const stop = async () => {
    await postfix?.stop();
    for (const c of children.reverse()) await stopChild(c);
  };
  try {
    const redis = spawn('/usr/bin/redis-server', ['--bind', '127.0.0.1', '--port', String(redisPort), '--save', '', '--appendonly', 'no',
      '--dir', dirs.redis, '--daemonize', 'no', '--logfile', path.join(dirs.log, 'redis.log')], { stdio: 'ignore' });
    children.push(redis);
    await waitPort(redisPort, 'redis-server', redis, 30);

    for (const [name, text] of Object.entries(localConfig({ dns: o.dns, redis: redisPort, clamd: o.clamdTcp, proxy, normal, controller, logDir: dirs.log }))) {
      await writeFile(path.join(dirs.local, 'local.d', name), text);
    }
    // -i: workers run as root here, so the work folder needs no ownership changes
    const rspamd = spawn('/usr/bin/rspamd', ['-f', '-i', '--var', `LOCAL_CONFDIR=${dirs.local}`, '--var', `RUNDIR=${dirs.run}`,
      '--var', `DBDIR=${dirs.db}`, '--var', `LOGDIR=${dirs.log}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let rspamdErr = '';
    rspamd.stderr!.on('data', (d: Buffer) => { rspamdErr = (rspamdErr + d.toString()).slice(-2000); });
    children.push(rspamd);
    await waitPort(normal, 'rspamd', rspamd).catch((err: Error) => { throw new Error(`${err.message}\n${rspamdErr}`); });
    await waitPort(controller, 'rspamd controller', rspamd);
    await waitPort(proxy, 'rspamd proxy', rspamd);

    // Bayes from the train split, every message learned (Learn-Type: bulk), as the peers' "bulk" run
    const t0 = Date.now();
    let learned = 0;
    for (const label of ['spam', 'ham'] as const) {
      const dir = path.join(o.work, 'train', label);
      await mkdir(dir, { recursive: true });
      const files: string[] = [];
      for (const m of o.train.filter((x) => x.spam === (label === 'spam'))) {
        const f = path.join(dir, `${m.id}.eml`);
        await writeFile(f, m.raw);
        files.push(f);
      }
      for (let i = 0; i < files.length; i += 200) {
        const { stdout } = await execFileP('/usr/bin/rspamc', ['-h', `127.0.0.1:${controller}`, '-n', '4', '-t', '60', '--header', 'Learn-Type=bulk',
          `learn_${label}`, ...files.slice(i, i + 200)], { maxBuffer: 64 * 1024 * 1024 }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
        learned += (stdout.match(/success = true/g) ?? []).length;
      }
    }
    o.say(`rspamd Bayes learned ${learned} of ${o.train.length} train messages in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

    const backupDir = path.join(o.work, 'postfix-etc');
    await mkdir(backupDir);
    postfix = await startPostfix({ port: smtp, sinkPort: o.sinkPort, backupDir, milter: `127.0.0.1:${proxy}` });
    return { port: smtp, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
