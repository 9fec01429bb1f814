// `mailmoat slot-check [--data DIR] [--limit-minutes N]`: the boot's health gate for system
// updates (see appliance/system/updates.ts), run as root by mailmoat-slot-check.service at every
// boot. Healthy: the daemon's unit is active and its readiness file names its ports, the SMTP
// listener greets with 220, the console answers GET /api/status — then RAUC marks the booted
// slot good. Not healthy in time on a slot on trial with a good slot beside it: the slot is marked
// bad, the reason recorded, and the box reboots into the other slot. Exit status 0 when healthy.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import {
  bootState, bootedSlot, checkSlot, isTrial, otherSlot, parseGrubEnv, parseRaucStatus, retried, updatesDir, writeRecord,
  type CheckRecord, type HealthProbe, type SlotName,
} from '../system/updates.ts';

const exec = promisify(execFile);
const GRUBENV = '/boot/efi/grub/grubenv';
const READY_FILE = '/run/mailmoat/ready';
const MAX_TRIES = 3;

/** `rauc ARGS`, tried again twice, 15 s apart (see `retried`). */
async function rauc(args: string[]): Promise<void> {
  await retried(() => exec('rauc', args), { times: 3, pauseMs: 15_000,
    onRetry: (err, tried) => console.error(`slot-check: rauc ${args.join(' ')} failed (try ${tried}): ${err.message.trim().split('\n').pop()}; trying again in 15 s`) });
}

function smtpGreets(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(30_000, () => socket.destroy(new Error(`SMTP on port ${port}: no greeting within 30 s`)));
    socket.once('data', (d) => {
      socket.end('QUIT\r\n');
      if (String(d).startsWith('220')) resolve();
      else reject(new Error(`SMTP on port ${port} greeted with "${String(d).trim().slice(0, 80)}"`));
    });
    socket.once('error', (err) => reject(new Error(`SMTP on port ${port}: ${err.message}`)));
  });
}

function consoleAnswers(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/api/status', rejectUnauthorized: false, timeout: 30_000 }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve();
      else reject(new Error(`the console answered GET /api/status with ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error(`the console on port ${port}: no answer within 30 s`)));
    req.on('error', (err) => reject(new Error(`the console on port ${port}: ${err.message}`)));
  });
}

async function probe(): Promise<HealthProbe> {
  const { stdout } = await exec('systemctl', ['show', '-p', 'ActiveState', '-p', 'NRestarts', 'mailmoat.service']);
  const state = /^ActiveState=(.*)$/m.exec(stdout)?.[1] ?? 'unknown';
  const restarts = Number(/^NRestarts=(\d+)$/m.exec(stdout)?.[1] ?? 0);
  if (state !== 'active') return { healthy: false, problem: `mailmoat.service is ${state}`, restarts };
  const ready = await readFile(READY_FILE, 'utf8').catch(() => '');
  const smtp = Number(/^smtp (\d+)$/m.exec(ready)?.[1]);
  const web = Number(/^console (\d+)$/m.exec(ready)?.[1]);
  if (!smtp || !web) return { healthy: false, problem: 'the daemon has not reported ready', restarts };
  try {
    await smtpGreets(smtp);
    await consoleAnswers(web);
  } catch (err) {
    return { healthy: false, problem: (err as Error).message, restarts };
  }
  return { healthy: true, restarts };
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { data: { type: 'string', default: '/var/lib/mailmoat' }, 'limit-minutes': { type: 'string', default: '15' } },
    strict: true,
  });
  const dataDir = values.data!;
  const limitMs = Number(values['limit-minutes']) * 60_000;
  const slot = bootedSlot(await readFile('/proc/cmdline', 'utf8'));
  if (!slot) { console.log('slot-check: not booted from a system slot (no rauc.slot= on the command line): nothing to check'); return 0; }
  const boot = bootState(parseGrubEnv(await readFile(GRUBENV, 'utf8')));
  const records = parseRaucStatus(await readFile(path.join(dataDir, 'rauc', 'central.raucs'), 'utf8').catch(() => ''));
  const version = records[slot]?.version ?? (await readFile('/etc/mailmoat-version', 'utf8').catch(() => 'unknown')).trim();
  const confirmedFile = path.join(updatesDir(dataDir), `confirmed-${slot}`);
  const confirmed = (await readFile(confirmedFile, 'utf8').catch(() => '')).trim() || undefined;
  const stamp = records[slot]?.installedAt ?? 'factory';
  const trial = isTrial(records[slot]?.installedAt, confirmed);
  const record = (r: Omit<CheckRecord, 'slot' | 'version' | 'at'>) =>
    writeRecord(dataDir, 'slot-check.json', JSON.stringify({ slot, version, ...r, at: new Date().toISOString() }, null, 2) + '\n');

  // GRUB booted another slot than the first in ORDER: that one ran out of tries (it never got as
  // far as this check, or the box hung) — unless this check already recorded why.
  const meant = boot.order[0];
  if (meant && meant !== slot && boot.slots[meant].ok && boot.slots[meant].tries >= MAX_TRIES) {
    await writeRecord(dataDir, 'fallback.json', JSON.stringify({ from: meant, to: slot,
      reason: `system ${meant} did not come up in ${MAX_TRIES} boots`, at: new Date().toISOString() }) + '\n');
  }
  console.log(`slot-check: system ${slot} (${version})${trial ? ', on trial' : ''}: waiting for the daemon to be healthy`);
  // While a fallback is possible the daemon holds configuration changes (updates.ts, trialGuard).
  const mayFallBack = trial && boot.slots[otherSlot(slot)].ok;
  await record({ result: 'checking', ...(mayFallBack ? { fallbackUntil: new Date(Date.now() + limitMs).toISOString() } : {}) });
  const outcome = await checkSlot({ slot, boot, trial, probe, limitMs, pollMs: 5000 });
  if (outcome.result === 'good') {
    await rauc(['status', 'mark-good']);
    await writeRecord(dataDir, `confirmed-${slot}`, `${stamp}\n`);
    await record({ result: 'good' });
    console.log(`slot-check: system ${slot} is healthy and marked good`);
    return 0;
  }
  const to: SlotName = otherSlot(slot);
  if (!outcome.fallBack) {
    await record({ result: 'bad', reason: outcome.reason });
    console.error(`slot-check: system ${slot} is not healthy: ${outcome.reason}; no fallback (${trial ? `system ${to} is not bootable` : 'this system was good before'})`);
    return 1;
  }
  await record({ result: 'bad', reason: outcome.reason, fellBackTo: to });
  await writeRecord(dataDir, 'fallback.json', JSON.stringify({ from: slot, to, reason: outcome.reason, at: new Date().toISOString() }) + '\n');
  console.error(`slot-check: system ${slot} is not healthy: ${outcome.reason}; marking it bad and rebooting into system ${to}`);
  await rauc(['status', 'mark-bad', 'booted']);
  await exec('systemctl', ['reboot']);
  return 1;
}
