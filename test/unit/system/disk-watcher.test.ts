// The disk watcher against real, small filesystems (a loop-mounted ext4 and tmpfs mounts made by
// the test, so it needs root, as CI has): filling one past the warning and hard limits must raise
// the levels, and freeing it must bring them back; a tmpfs (which systeminformation's mount list
// leaves out) and a spool on its own mount are measured themselves; a path that cannot be measured
// is an error naming it.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DiskWatcher, type DiskEvent } from '../../../appliance/system/disk-watcher.ts';

const isRoot = process.getuid?.() === 0;
const thresholds = { warnPercent: 80, hardLimitPercent: 95, quarantineWarnPercent: 50, checkSeconds: 60 };

function withTmpfs(sizeMiB: number, dir = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-tmpfs-'))): { dir: string; cleanup: () => void } {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir]);
  return { dir, cleanup: () => { execFileSync('umount', [dir]); rmSync(dir, { recursive: true }); } };
}

function withFilesystem(sizeMiB: number): { dir: string; cleanup: () => void } {
  const work = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-disk-'));
  const image = path.join(work, 'fs.img');
  const dir = path.join(work, 'mnt');
  mkdirSync(dir);
  execFileSync('mkfs.ext4', ['-q', '-m', '0', '-O', '^has_journal', image, `${sizeMiB}M`]);
  execFileSync('mount', ['-o', 'loop', image, dir]);
  return { dir, cleanup: () => { execFileSync('umount', [dir]); rmSync(work, { recursive: true }); } };
}

/** Writes a file that brings the filesystem holding `dir` to about `percent` % used. */
function fillTo(dir: string, name: string, percent: number): void {
  const { size, used } = usage(dir);
  writeFileSync(path.join(dir, name), Buffer.alloc(Math.max(0, Math.round(size * percent / 100 - used)), 1));
  execFileSync('sync');
}

function usage(dir: string): { size: number; used: number } {
  const [, line] = execFileSync('df', ['-kP', dir], { encoding: 'utf8' }).trim().split('\n');
  const [, size, used] = line.split(/\s+/).map(Number);
  return { size: size * 1024, used: used * 1024 };
}

(isRoot ? test.serial : test.serial.skip)('warns at 80 %, refuses mail at the hard limit, recovers when freed', async (t) => {
  const { dir, cleanup } = withFilesystem(20);
  try {
    const events: DiskEvent[] = [];
    const watcher = new DiskWatcher({ systemPath: '/', dataPath: dir, thresholds });
    watcher.on('alert', (e) => events.push(e));
    watcher.on('recovered', (e) => events.push(e));

    let status = await watcher.check();
    const data = status.filesystems.find((f) => f.role === 'data')!;
    t.is(data.mount, dir);
    t.is(data.level, 'ok');
    t.false(watcher.isAboveHardLimit());
    t.deepEqual(events.filter((e) => e.role === 'data'), []);

    t.is(watcher.nextCheckSeconds, 60);

    fillTo(dir, 'a', 85);
    status = await watcher.check();
    t.is(status.filesystems.find((f) => f.role === 'data')!.level, 'warning');
    t.false(watcher.isAboveHardLimit());
    t.is(watcher.nextCheckSeconds, 5, 'measured every 5 s while near the limit');
    const warning = events.find((e) => e.role === 'data' && e.level === 'warning');
    t.truthy(warning);
    t.regex(warning!.message, /data filesystem .* is 8\d(\.\d)? % full/);

    // A second check at the same level says nothing new.
    const before = events.length;
    await watcher.check();
    t.is(events.length, before);

    fillTo(dir, 'b', 97);
    await watcher.check();
    t.true(watcher.isAboveHardLimit());
    t.regex(events.at(-1)!.message, /452/);

    unlinkSync(path.join(dir, 'a'));
    unlinkSync(path.join(dir, 'b'));
    await watcher.check();
    t.false(watcher.isAboveHardLimit());
    t.like(events.at(-1), { role: 'data', level: 'ok', previous: 'full' });
    t.is(watcher.nextCheckSeconds, 60);
  } finally {
    cleanup();
  }
});

(isRoot ? test.serial : test.serial.skip)('warns when the quarantine takes too large a share of the data filesystem', async (t) => {
  const { dir, cleanup } = withFilesystem(20);
  try {
    const { size } = usage(dir);
    let quarantine = size * 0.1;
    const watcher = new DiskWatcher({ systemPath: '/', dataPath: dir, thresholds, quarantineBytes: () => quarantine });
    const alerts: DiskEvent[] = [];
    watcher.on('alert', (e) => alerts.push(e));
    let status = await watcher.check();
    t.is(status.quarantineLevel, 'ok');
    quarantine = size * 0.6;
    status = await watcher.check();
    t.is(status.quarantineLevel, 'warning');
    t.is(status.quarantinePercent, 60);
    t.like(alerts.at(-1), { role: 'quarantine', level: 'warning' });
  } finally {
    cleanup();
  }
});

(isRoot ? test.serial : test.serial.skip)('a data directory on tmpfs is measured itself, not the filesystem above it', async (t) => {
  const { dir, cleanup } = withTmpfs(8);
  try {
    const watcher = new DiskWatcher({ systemPath: '/', dataPath: dir, thresholds });
    let status = await watcher.check();
    const data = status.filesystems.find((f) => f.role === 'data')!;
    t.is(data.mount, dir);
    t.is(data.sizeBytes, 8 * 1024 * 1024);
    fillTo(dir, 'a', 98);
    status = await watcher.check();
    t.true(watcher.isAboveHardLimit(), JSON.stringify(status.filesystems));
  } finally {
    cleanup();
  }
});

(isRoot ? test.serial : test.serial.skip)('a spool on its own filesystem counts as data: it filling up refuses mail too', async (t) => {
  const data = withTmpfs(16);
  const spool = withTmpfs(4, path.join(data.dir, 'spool'));
  try {
    const watcher = new DiskWatcher({ systemPath: '/', dataPath: data.dir, moreDataPaths: [spool.dir, data.dir], thresholds });
    const alerts: DiskEvent[] = [];
    watcher.on('alert', (e) => alerts.push(e));
    let status = await watcher.check();
    t.deepEqual(status.filesystems.filter((f) => f.role === 'data').map((f) => [f.mount, f.paths.length]), [[data.dir, 2], [spool.dir, 1]]);
    fillTo(spool.dir, 'a', 97);
    status = await watcher.check();
    t.true(watcher.isAboveHardLimit());
    t.like(alerts.at(-1), { role: 'data', level: 'full' });
    t.true(alerts.at(-1)!.message.includes(spool.dir));
  } finally {
    spool.cleanup();
    data.cleanup();
  }
});

test('a path that cannot be measured fails the check with the path in the error', async (t) => {
  const missing = path.join(os.tmpdir(), 'mailmoat-no-such-dir', 'quarantine');
  const watcher = new DiskWatcher({ systemPath: '/', dataPath: os.tmpdir(), moreDataPaths: [missing], thresholds });
  const errors: Error[] = [];
  watcher.on('error', (e) => errors.push(e));
  const err = await t.throwsAsync(watcher.check());
  t.regex(err!.message, /cannot measure the filesystem holding .*mailmoat-no-such-dir\/quarantine: ENOENT/);
  t.is(errors.length, 1);
  t.is(watcher.status, undefined);
});
