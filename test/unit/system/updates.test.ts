// The A/B update logic that needs no box (appliance/system/updates.ts): GRUB's environment block
// and RAUC's status file read as GRUB and RAUC write them, the booted slot from the kernel command
// line, and the boot's health gate — healthy marks good; one daemon restart is tolerated, a second
// fails at once; a slot on trial falls back only to a bootable other slot, a proven slot never;
// RAUC's commands tried again after a failure (a D-Bus timeout at boot), the last failure kept;
// configuration changes held while a slot on trial may still fall back.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  bootState, bootedSlot, checkSlot, isTrial, parseGrubEnv, parseRaucStatus, retried, TrialHold, trialGuard, trialHold, writeRecord, type HealthProbe,
} from '../../../appliance/system/updates.ts';

const editenv = path.resolve(import.meta.dirname, '../../../image/overlay/usr/local/sbin/grub-editenv');

test('the image\'s grub-editenv writes the 1024-byte block GRUB reads, and RAUC\'s set and list work on it', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-grubenv-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'grubenv');
  execFileSync(editenv, [file, 'create']);
  execFileSync(editenv, [file, 'set', 'ORDER=A B', 'A_OK=1', 'A_TRY=0', 'B_OK=0', 'B_TRY=0']);
  // What RAUC does after installing into B (set primary), then GRUB's try and the mark-good.
  execFileSync(editenv, [file, 'set', 'B_OK=1', 'B_TRY=0', 'ORDER=B A']);
  execFileSync(editenv, [file, 'set', 'B_TRY=1']);
  const text = readFileSync(file, 'latin1');
  t.is(text.length, 1024);
  t.true(text.startsWith('# GRUB Environment Block\n'));
  t.regex(text, /#+$/);
  t.is(execFileSync(editenv, [file, 'list'], { encoding: 'utf8' }), 'A_OK=1\nA_TRY=0\nB_OK=1\nORDER=B A\nB_TRY=1\n');
  t.deepEqual(bootState(parseGrubEnv(text)), { order: ['B', 'A'], slots: { A: { ok: true, tries: 0 }, B: { ok: true, tries: 1 } } });
  execFileSync(editenv, [file, 'unset', 'B_TRY']);
  t.notRegex(execFileSync(editenv, [file, 'list'], { encoding: 'utf8' }), /B_TRY/);
  t.throws(() => execFileSync(editenv, [file, 'set', 'BAD NAME=1'], { stdio: 'ignore' }));
});

test('the image\'s grub-editenv rewrites an existing block in place (the ESP\'s FAT and directory stay as they are); a missing or misshapen one is made anew', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-grubenv-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'grubenv');
  execFileSync(editenv, [file, 'create']);
  const made = statSync(file);
  // RAUC's mark-good, then another change: the same file (inode) each time, never a new one renamed over it.
  execFileSync(editenv, [file, 'set', 'ORDER=A B', 'A_OK=1', 'A_TRY=0']);
  execFileSync(editenv, [file, 'set', 'A_TRY=1']);
  t.is(statSync(file).ino, made.ino);
  t.is(readFileSync(file, 'latin1').length, 1024);
  t.is(execFileSync(editenv, [file, 'list'], { encoding: 'utf8' }), 'ORDER=A B\nA_OK=1\nA_TRY=1\n');
  t.deepEqual(readdirSync(dir), ['grubenv']);
  // A shorter variable list leaves no trace of the longer one.
  execFileSync(editenv, [file, 'unset', 'ORDER', 'A_OK']);
  t.is(execFileSync(editenv, [file, 'list'], { encoding: 'utf8' }), 'A_TRY=1\n');
  t.regex(readFileSync(file, 'latin1'), /^# GRUB Environment Block\nA_TRY=1\n#+$/);
  // A block of another size (not GRUB's) is replaced by a whole one, keeping its variables.
  writeFileSync(file, '# GRUB Environment Block\nA_OK=1\n');
  execFileSync(editenv, [file, 'set', 'A_TRY=0']);
  t.is(readFileSync(file, 'latin1').length, 1024);
  t.is(execFileSync(editenv, [file, 'list'], { encoding: 'utf8' }), 'A_OK=1\nA_TRY=0\n');
  t.deepEqual(readdirSync(dir), ['grubenv']);
});

test('the booted slot comes from rauc.slot= on the command line; RAUC\'s status file gives each slot\'s bundle', (t) => {
  t.is(bootedSlot('BOOT_IMAGE=/vmlinuz root=PARTUUID=x rauc.slot=B ro quiet'), 'B');
  t.is(bootedSlot('root=/dev/vda3 ro'), undefined);
  t.is(bootedSlot('xrauc.slot=A'), undefined);
  const status = parseRaucStatus(`[slot.rootfs.1]
bundle.compatible=mailmoat-amd64
bundle.version=0.1.1
bundle.build=20261130T140000Z
status=ok
installed.timestamp=2026-11-30T14:10:00Z
installed.count=2

[slot.other]
bundle.version=9
`);
  t.deepEqual(status, { B: { version: '0.1.1', build: '20261130T140000Z', installedAt: '2026-11-30T14:10:00Z', installCount: 2 } });
  t.true(isTrial('2026-11-30T14:10:00Z', undefined), 'a new install is on trial');
  t.false(isTrial('2026-11-30T14:10:00Z', '2026-11-30T14:10:00Z'), 'confirmed since');
  t.true(isTrial('2026-12-01T00:00:00Z', '2026-11-30T14:10:00Z'), 'installed again since');
  t.true(isTrial(undefined, undefined), 'the factory slot before its first good boot');
  t.false(isTrial(undefined, 'factory'));
});

/** A clock that moves only when the check sleeps, and a probe that plays a script of answers. */
function scripted(answers: HealthProbe[]) {
  let clock = 0;
  let i = 0;
  return {
    probe: async () => answers[Math.min(i++, answers.length - 1)]!,
    now: () => clock,
    sleep: async (ms: number) => { clock += ms; },
    calls: () => i,
  };
}

const boot = { order: ['B', 'A'] as ('A' | 'B')[], slots: { A: { ok: true, tries: 0 }, B: { ok: true, tries: 1 } } };

test('healthy within the limit: good, even after one restart of the daemon', async (t) => {
  const s = scripted([
    { healthy: false, problem: 'mailmoat.service is activating', restarts: 0 },
    { healthy: false, problem: 'mailmoat.service is activating', restarts: 1 },
    { healthy: true, restarts: 1 },
  ]);
  t.deepEqual(await checkSlot({ slot: 'B', boot, trial: true, limitMs: 60_000, pollMs: 5000, ...s }), { result: 'good' });
  t.is(s.calls(), 3);
});

test('a second restart fails at once; on trial with a good slot beside it, the box falls back', async (t) => {
  const s = scripted([
    { healthy: false, problem: 'mailmoat.service is activating', restarts: 1 },
    { healthy: false, problem: 'mailmoat.service is failed', restarts: 2 },
    { healthy: true, restarts: 2 },
  ]);
  const r = await checkSlot({ slot: 'B', boot, trial: true, limitMs: 15 * 60_000, pollMs: 5000, ...s });
  t.deepEqual(r, { result: 'bad', reason: 'the daemon failed to start 2 times (mailmoat.service is failed)', fallBack: true });
  t.is(s.now(), 5000, 'it did not wait out the limit');
});

test('never healthy: bad at the limit; no fallback for a proven slot or to a slot never good', async (t) => {
  const never = () => scripted([{ healthy: false, problem: 'SMTP on port 25: connect ECONNREFUSED', restarts: 0 }]);
  const s = never();
  const r = await checkSlot({ slot: 'B', boot, trial: true, limitMs: 60_000, pollMs: 5000, ...s });
  t.deepEqual(r, { result: 'bad', reason: 'the daemon was not healthy within 1 min: SMTP on port 25: connect ECONNREFUSED', fallBack: true });
  t.is(s.now(), 60_000);
  t.like(await checkSlot({ slot: 'B', boot, trial: false, limitMs: 60_000, pollMs: 5000, ...never() }), { result: 'bad', fallBack: false });
  const factory = { order: ['A', 'B'] as ('A' | 'B')[], slots: { A: { ok: true, tries: 1 }, B: { ok: false, tries: 0 } } };
  t.like(await checkSlot({ slot: 'A', boot: factory, trial: true, limitMs: 60_000, pollMs: 5000, ...never() }), { result: 'bad', fallBack: false });
  // A probe that throws counts as not healthy, with its message as the reason.
  const thrown = { probe: async (): Promise<HealthProbe> => { throw new Error('systemctl: not found'); }, now: () => 1e12, sleep: async () => {} };
  t.like(await checkSlot({ slot: 'B', boot, trial: true, limitMs: 0, pollMs: 5000, ...thrown }), { result: 'bad', reason: 'the daemon was not healthy within 0 min: systemctl: not found' });
});

test('a RAUC command that fails is tried again after a pause, up to the limit; the last failure is thrown', async (t) => {
  const pauses: number[] = [];
  const retriesHeard: string[] = [];
  let calls = 0;
  const flaky = async () => {
    calls++;
    if (calls < 3) throw new Error(`Error retrieving slot status via D-Bus: Timeout was reached (${calls})`);
    return 'marked good';
  };
  const o = { times: 3, pauseMs: 15_000, sleep: async (ms: number) => { pauses.push(ms); }, onRetry: (e: Error, n: number) => retriesHeard.push(`${n}: ${e.message}`) };
  t.is(await retried(flaky, o), 'marked good');
  t.deepEqual(pauses, [15_000, 15_000]);
  t.deepEqual(retriesHeard, ['1: Error retrieving slot status via D-Bus: Timeout was reached (1)', '2: Error retrieving slot status via D-Bus: Timeout was reached (2)']);

  calls = -10;
  pauses.length = 0;
  await t.throwsAsync(retried(flaky, o), { message: 'Error retrieving slot status via D-Bus: Timeout was reached (-7)' });
  t.deepEqual(pauses, [15_000, 15_000], 'no pause after the last try');
});

test('configuration changes are held while this boot\'s slot is on trial with a fallback possible, and only then', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-trial-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const now = Date.parse('2026-12-01T10:00:00Z');
  const check = (record: object) => writeRecord(dataDir, 'slot-check.json', JSON.stringify(record));
  const onB = 'root=PARTUUID=y rauc.slot=B ro';
  const checking = { slot: 'B', version: '0.2.0', result: 'checking', fallbackUntil: '2026-12-01T10:15:00Z', at: '2026-12-01T10:00:00Z' };

  t.is(await trialHold(dataDir, onB, now), undefined, 'no check recorded yet');
  await check(checking);
  const hold = await trialHold(dataDir, onB, now);
  t.true(hold instanceof TrialHold);
  t.like(hold, { slot: 'B', version: '0.2.0', until: new Date('2026-12-01T10:15:00Z') });
  t.regex(hold!.message, /system B \(0\.2\.0\) has just been installed and is being checked/);
  // The guard reads the clock: a record whose limit is ahead of now, whatever the day the test runs.
  await check({ ...checking, fallbackUntil: new Date(Date.now() + 15 * 60_000).toISOString() });
  await t.throwsAsync(trialGuard(dataDir, async () => onB)(), { instanceOf: TrialHold });
  await check(checking);

  t.is(await trialHold(dataDir, 'root=PARTUUID=x rauc.slot=A ro', now), undefined, 'the record is another slot\'s (this boot fell back)');
  t.is(await trialHold(dataDir, 'root=/dev/sda1 ro', now), undefined, 'not booted from a slot');
  t.is(await trialHold(dataDir, onB, Date.parse('2026-12-01T10:15:01Z')), undefined, 'past the check\'s limit (a check that died holds nothing for ever)');
  await check({ ...checking, fallbackUntil: undefined });
  t.is(await trialHold(dataDir, onB, now), undefined, 'a check with no fallback possible (a proven slot, or the factory image)');
  await check({ ...checking, result: 'good' });
  t.is(await trialHold(dataDir, onB, now), undefined, 'the check passed');
  await writeRecord(dataDir, 'slot-check.json', '{ half a record');
  t.is(await trialHold(dataDir, onB, now), undefined, 'an unreadable record holds nothing');
  await t.notThrowsAsync(trialGuard(dataDir, async () => onB)());
});
