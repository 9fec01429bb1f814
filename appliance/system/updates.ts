// System updates (A/B with RAUC), the appliance side. The image has two system slots, A and B;
// GRUB boots one of them from the boot-slot state in grubenv on the ESP (image/grub/grub.cfg:
// ORDER, X_OK, X_TRY), RAUC installs a signed bundle into the slot not running and makes it first
// in ORDER. A slot so booted is on trial until `mailmoat slot-check` (root, at every boot) finds
// the daemon healthy — its unit active and ready, SMTP greeting, the console answering — and has
// RAUC mark it good. A trial slot whose daemon does not get healthy within the limit (or fails to
// start twice: one restart is tolerated, as emulated boots have seen a crash at start) is marked
// bad and the box reboots: GRUB then boots the other slot. A slot that already proved itself is
// never abandoned that way (its trouble is not the update's), nor is there a fallback to a slot
// that was never good (the factory image's empty slot B).
// Records, on the data partition in <data>/updates (written by root, read by the daemon):
//   slot-check.json  the last check: slot, version, result, reason, time
//   confirmed-<X>    the RAUC install stamp of slot X when it was last found good (trial detection)
// The daemon reads those, RAUC's own records (<data>/rauc/central.raucs) and the grubenv (by way
// of the check's record: the ESP is root's) to tell the console which slot booted and why.
import { spawn } from 'node:child_process';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export type SlotName = 'A' | 'B';

/** GRUB's environment block: "# GRUB Environment Block", NAME=value lines, '#' padding. */
export function parseGrubEnv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n').slice(1)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) vars[m[1]!] = m[2]!;
  }
  return vars;
}

export interface SlotBootState { ok: boolean; tries: number }
export interface BootState { order: SlotName[]; slots: Record<SlotName, SlotBootState> }

export function bootState(env: Record<string, string>): BootState {
  const order = (env.ORDER ?? 'A B').split(/\s+/).filter((s): s is SlotName => s === 'A' || s === 'B');
  const slot = (x: SlotName): SlotBootState => ({ ok: env[`${x}_OK`] === '1', tries: Number(env[`${x}_TRY`] ?? 0) || 0 });
  return { order, slots: { A: slot('A'), B: slot('B') } };
}

/** The slot this boot runs from: GRUB puts rauc.slot=A|B on the kernel command line. */
export function bootedSlot(cmdline: string): SlotName | undefined {
  const m = /(?:^|\s)rauc\.slot=([AB])(?:\s|$)/.exec(cmdline);
  return m ? (m[1] as SlotName) : undefined;
}

export function otherSlot(slot: SlotName): SlotName {
  return slot === 'A' ? 'B' : 'A';
}

/** What RAUC recorded about the bundle in each slot (its central status file, a key file). */
export interface SlotRecord { version?: string; build?: string; installedAt?: string; installCount?: number }

export function parseRaucStatus(text: string): Partial<Record<SlotName, SlotRecord>> {
  const slots: Partial<Record<SlotName, SlotRecord>> = {};
  let current: SlotRecord | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const section = /^\[slot\.rootfs\.([01])\]$/.exec(line);
    if (section) {
      current = {};
      slots[section[1] === '0' ? 'A' : 'B'] = current;
      continue;
    }
    if (line.startsWith('[')) { current = undefined; continue; }
    const kv = /^([^=]+)=(.*)$/.exec(line);
    if (!current || !kv) continue;
    const [key, value] = [kv[1]!.trim(), kv[2]!.trim()];
    if (key === 'bundle.version') current.version = value;
    else if (key === 'bundle.build') current.build = value;
    else if (key === 'installed.timestamp') current.installedAt = value;
    else if (key === 'installed.count') current.installCount = Number(value);
  }
  return slots;
}

/** One look at the daemon's health; `problem` says what is missing, for the record and the console. */
export interface HealthProbe { healthy: boolean; problem?: string; restarts: number }

export interface SlotCheckOptions {
  slot: SlotName;
  /** The boot-slot state as GRUB left it for this boot. */
  boot: BootState;
  /** True when this slot holds an install never yet found good (see `isTrial`). */
  trial: boolean;
  probe: () => Promise<HealthProbe>;
  limitMs: number;
  pollMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type SlotCheckResult =
  | { result: 'good' }
  | { result: 'bad'; reason: string; fallBack: boolean };

/**
 * Waits for the daemon to be healthy, within `limitMs`. Restarts: one is tolerated; a second
 * means the daemon cannot start, and there is no point waiting out the limit.
 * `fallBack` is true when the box should mark this slot bad and reboot into the other one: only
 * for a slot on trial, and only when the other one is bootable.
 */
export async function checkSlot(o: SlotCheckOptions): Promise<SlotCheckResult> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + o.limitMs;
  let last: HealthProbe = { healthy: false, problem: 'not checked yet', restarts: 0 };
  for (;;) {
    last = await o.probe().catch((err: Error) => ({ healthy: false, problem: err.message, restarts: last.restarts }));
    if (last.healthy) return { result: 'good' };
    if (last.restarts >= 2) break;
    if (now() >= deadline) break;
    await sleep(o.pollMs);
  }
  const why = last.restarts >= 2
    ? `the daemon failed to start ${last.restarts} times (${last.problem ?? 'no detail'})`
    : `the daemon was not healthy within ${Math.round(o.limitMs / 60_000)} min: ${last.problem ?? 'no detail'}`;
  const other = otherSlot(o.slot);
  return { result: 'bad', reason: why, fallBack: o.trial && o.boot.slots[other].ok };
}

/**
 * Runs `attempt` until it succeeds, at most `times` times, pausing `pauseMs` between tries; the last
 * failure is thrown. For RAUC's commands at boot: they go through its D-Bus service, whose first
 * start can outlast the call's timeout on a busy box ("GetSlotStatus: Timeout was reached"), and a
 * slot left unconfirmed for that would be given up after three boots.
 */
export async function retried<T>(attempt: () => Promise<T>, o: { times: number; pauseMs: number; onRetry?: (err: Error, tried: number) => void;
  sleep?: (ms: number) => Promise<void> }): Promise<T> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let tried = 1; ; tried++) {
    try {
      return await attempt();
    } catch (err) {
      if (tried >= o.times) throw err;
      o.onRetry?.(err as Error, tried);
      await sleep(o.pauseMs);
    }
  }
}

/** A slot is on trial while RAUC's install stamp for it differs from the one recorded when it was last found good. */
export function isTrial(installedAt: string | undefined, confirmed: string | undefined): boolean {
  return (installedAt ?? 'factory') !== (confirmed ?? '');
}

export interface CheckRecord {
  slot: SlotName;
  version: string;
  result: 'checking' | 'good' | 'bad';
  reason?: string;
  /** Set when the check marked the slot bad and rebooted into the other one. */
  fellBackTo?: SlotName;
  /**
   * Set while a slot on trial is being checked and the box can still fall back to the other slot:
   * the time the check gives up at the latest. Until then the configuration is not changed (`trialGuard`).
   */
  fallbackUntil?: string;
  at: string;
}

/**
 * Refuses configuration changes while this boot's slot is on trial and the box may still fall back
 * to the other slot: the earlier system must find the configuration it wrote (a configuration
 * saved in a newer version's form could name settings it does not know, and it would not start).
 */
export class TrialHold extends Error {
  readonly slot: SlotName;
  readonly version: string;
  readonly until: Date;
  constructor(slot: SlotName, version: string, until: Date) {
    super(`system ${slot} (${version}) has just been installed and is being checked; until the check passes ` +
      `(by ${until.toISOString()} at the latest) the configuration is not changed, so that the earlier system ` +
      'still reads it if the box falls back: try again in a few minutes');
    this.name = 'TrialHold';
    this.slot = slot;
    this.version = version;
    this.until = until;
  }
}

/** The hold on configuration changes this boot is under, if any (read from the check's record). */
export async function trialHold(dataDir: string, cmdline: string, now = Date.now()): Promise<TrialHold | undefined> {
  const booted = bootedSlot(cmdline);
  const text = await readText(path.join(updatesDir(dataDir), 'slot-check.json'));
  if (!booted || !text) return undefined;
  let record: Partial<CheckRecord>;
  try {
    record = JSON.parse(text) as Partial<CheckRecord>;
  } catch {
    return undefined;
  }
  const until = Date.parse(record.fallbackUntil ?? '');
  if (record.slot !== booted || record.result !== 'checking' || !(until > now)) return undefined;
  return new TrialHold(booted, record.version ?? 'unknown', new Date(until));
}

/** A guard for ConfigService: throws the TrialHold this boot is under, if any. */
export function trialGuard(dataDir: string, cmdline: () => Promise<string> = () => readFile('/proc/cmdline', 'utf8').catch(() => '')): () => Promise<void> {
  return async () => {
    const hold = await trialHold(dataDir, await cmdline());
    if (hold) throw hold;
  };
}

export function updatesDir(dataDir: string): string {
  return path.join(dataDir, 'updates');
}

export async function writeRecord(dataDir: string, name: string, content: string): Promise<void> {
  const dir = updatesDir(dataDir);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, name);
  await writeFile(`${file}.new`, content, { mode: 0o644 });
  await rename(`${file}.new`, file);
}

async function readText(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').catch(() => undefined);
}

/** What the console and API show about the system slots. */
export interface UpdateStatus {
  booted: SlotName | null;
  version: string;
  slots: { name: SlotName; version: string | null; installedAt: string | null; booted: boolean }[];
  /** The last boot check (none yet on a box that never ran one). */
  lastCheck: CheckRecord | null;
  /** Set when the box runs from another slot than the one it was meant to boot, and why. */
  fallback: { from: SlotName; reason: string; at: string } | null;
  /** The state of an install from the console or API (none since the daemon started). */
  install: InstallState | null;
  /** A bundle uploaded and checked, waiting for "install" (the console shows it first). */
  bundle: UploadedBundle | null;
}

export interface UploadedBundle extends BundleInfo { size: number; uploadedAt: string }

export type InstallState =
  | { state: 'installing'; percent: number; message: string; startedAt: string }
  | { state: 'installed'; slot: SlotName | null; version: string | null; startedAt: string; finishedAt: string; rebooting?: boolean }
  | { state: 'failed'; error: string; startedAt: string; finishedAt: string };

export async function readUpdateStatus(dataDir: string, cmdline: string, version: string, install: InstallState | null,
  bundle: UploadedBundle | null = null): Promise<UpdateStatus> {
  const booted = bootedSlot(cmdline) ?? null;
  const records = parseRaucStatus((await readText(path.join(dataDir, 'rauc', 'central.raucs'))) ?? '');
  const checkText = await readText(path.join(updatesDir(dataDir), 'slot-check.json'));
  let lastCheck: CheckRecord | null = null;
  try { lastCheck = checkText ? JSON.parse(checkText) as CheckRecord : null; } catch { lastCheck = null; }
  const fallbackText = await readText(path.join(updatesDir(dataDir), 'fallback.json'));
  let fallback: UpdateStatus['fallback'] = null;
  try {
    const f = fallbackText ? JSON.parse(fallbackText) as { from: SlotName; to: SlotName; reason: string; at: string } : null;
    // A fallback is news while the box runs from the slot it fell back to.
    if (f && f.to === booted) fallback = { from: f.from, reason: f.reason, at: f.at };
  } catch { fallback = null; }
  const slots = (['A', 'B'] as const).map((name) => ({
    name,
    version: records[name]?.version ?? (name === booted ? version : null),
    installedAt: records[name]?.installedAt ?? null,
    booted: name === booted,
  }));
  return { booted, version, slots, lastCheck, fallback, install, bundle };
}

/** What a bundle says of itself (its signed manifest), read by `rauc info` before it is installed. */
export interface BundleInfo { compatible: string; version: string; description: string; build: string }

/**
 * Checks a bundle's signature against the image's keyring and reads its manifest (`rauc info`: a
 * verity bundle carries the manifest in its signature, so nothing is mounted and no root is needed).
 * A refusal is rejected with RAUC's own reason.
 */
export function raucInfo(file: string, rauc = 'rauc'): Promise<BundleInfo> {
  return new Promise((resolve, reject) => {
    const child = spawn(rauc, ['info', '--output-format=json', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d; });
    child.stderr.on('data', (d: Buffer) => { err += d; });
    child.on('error', (e) => reject(new Error(`cannot run ${rauc}: ${e.message}`)));
    child.on('close', (code) => {
      if (code !== 0) {
        const lines = err.split(/[\r\n]+/).map((l) => l.replace(/^rauc-\w+: [\d:.]+: /, '').trim()).filter(Boolean);
        reject(new Error(lines.filter((l) => /error|fail|refus|invalid|not /i.test(l)).pop() ?? lines.pop() ?? `exit status ${code}`));
        return;
      }
      try {
        const m = JSON.parse(out) as Partial<Record<keyof BundleInfo, unknown>>;
        const text = (v: unknown) => (typeof v === 'string' ? v : '');
        resolve({ compatible: text(m.compatible), version: text(m.version), description: text(m.description), build: text(m.build) });
      } catch {
        reject(new Error('rauc info gave no manifest'));
      }
    });
  });
}

/** Runs `rauc install FILE` (through RAUC's D-Bus service), reporting its progress lines. */
export function raucInstall(file: string, onProgress: (percent: number, message: string) => void, rauc = 'rauc'): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(rauc, ['install', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (d: Buffer) => {
      output += d;
      for (const line of String(d).split(/[\r\n]+/)) {
        const m = /(\d{1,3})%\s+(.*)$/.exec(line.trim());
        if (m) onProgress(Number(m[1]), m[2]!.trim());
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (err) => reject(new Error(`cannot run ${rauc}: ${err.message}`)));
    // 'close', not 'exit': only then has all its output been read.
    child.on('close', (code) => {
      if (code === 0) resolve();
      else {
        const lines = output.split(/[\r\n]+/).map((l) => l.trim()).filter(Boolean);
        const error = lines.filter((l) => /error|fail|refus|invalid|not /i.test(l)).pop() ?? lines.pop() ?? `exit status ${code}`;
        reject(new Error(error));
      }
    });
  });
}

/** Asks root to reboot the box (mailmoat-reboot-request.path watches this file). */
export async function requestReboot(dataDir: string, reason: string): Promise<void> {
  await writeRecord(dataDir, 'reboot-request', `${new Date().toISOString()} ${reason}\n`);
}

export async function removeQuietly(file: string): Promise<void> {
  await rm(file, { force: true });
}
