// The image's mailmoat-wait-ready (ExecStartPost of mailmoat.service, run as the mailmoat user):
// it waits for the daemon's readiness file and gives up only when the daemon has exited. Run here
// as `nobody` against real processes: one owned by root stands for a daemon whose process systemd
// is still setting up (it drops root only just before Node starts), which a signal from the
// unprivileged script may not reach (kill -0 says EPERM) although it is alive.
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const script = path.resolve(import.meta.dirname, '../../../image/overlay/usr/local/sbin/mailmoat-wait-ready');
const isRoot = process.getuid?.() === 0;

/** Runs the script as `nobody` with MAINPID set; resolves with its exit code and error output. */
function waitReady(readyFile: string, mainPid: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', 'sh', script, readyFile],
      { env: { PATH: process.env.PATH, MAINPID: String(mainPid) }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-wait-ready-'));
  chmodSync(dir, 0o755);
  return dir;
}

const ended = (child: ChildProcess) => new Promise<void>((resolve) =>
  (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

test('a live daemon still owned by root is waited for, not taken for dead', async (t) => {
  if (!isRoot) return t.pass('needs root: a process the script (as nobody) may not signal');
  const dir = tempDir();
  const daemon = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    const ready = path.join(dir, 'ready');
    const waiting = waitReady(ready, daemon.pid!);
    await sleep(1500);
    writeFileSync(ready, `${daemon.pid}\n`);
    const { code, stderr } = await waiting;
    t.is(code, 0, stderr);
    t.is(stderr, '');
  } finally {
    daemon.kill();
    await ended(daemon);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a daemon that exits before it is ready fails the start at once, saying so', async (t) => {
  if (!isRoot) return t.pass('needs root to run the script as nobody');
  const dir = tempDir();
  const daemon = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    const ready = path.join(dir, 'ready');
    const waiting = waitReady(ready, daemon.pid!);
    await sleep(500);
    daemon.kill();
    const { code, stderr } = await waiting;
    t.is(code, 1);
    t.regex(stderr, /mailmoat exited before it was ready/);
    t.false(existsSync(ready));
  } finally {
    daemon.kill();
    await ended(daemon);
    rmSync(dir, { recursive: true, force: true });
  }
});
