// Network settings changed from the browser, tried before they are kept — the console's version
// of the serial menu's "set network" (console/set-network.ts), split between the unprivileged
// daemon and root:
//   - the daemon (NetworkTrials) records the trial in <data>/system/network-trial.json: the
//     interfaces' new settings, when they revert unless confirmed, and whether they are pending,
//     confirmed or reverted. The file outlives a restart of the daemon: on start a pending trial is
//     reverted at once if its time has passed, else its timer is armed again for what is left;
//   - root (syncNetwork, run by `mailmoat network-sync` from mailmoat-apply-system when the file
//     changes) makes networkd's files say what the record says: a pending trial as runtime
//     candidates (/run, which a reset empties), a confirmed one as persistent files, a reverted one
//     as nothing (the candidates removed). It checks every value again itself: it never trusts the
//     daemon's file.
// The box's own DNS resolvers go the same way (`resolvers` in the record: a resolved drop-in as a
// runtime candidate, then persistent; an empty list kept removes the box's own, leaving the
// interfaces' resolvers). So a wrong address or resolver from the browser reverts by itself when nobody confirms it: by the daemon's
// timer, or by a reboot, since /run does not survive one.
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  candidateFileName, fileName, networkctlApply, parseResolved, renderNetwork, renderResolved, RESOLVED_CANDIDATE, RESOLVED_DIRS, RESOLVED_FILE,
  resolvedApply, resolverProblems, validateInterface, writeAtomic, type InterfaceSettings,
} from './network.ts';

export const TRIAL_FILE = 'network-trial.json';

export interface NetworkTrial {
  id: string;
  settings: InterfaceSettings[];
  /** The box's own DNS resolvers, when the trial changes them ([]: none of its own). */
  resolvers?: string[];
  startedAt: string;
  revertAt: string;
  state: 'pending' | 'confirmed' | 'reverted';
  endedAt?: string;
  /** Why it was reverted: not confirmed in time, or the admin asked. */
  reason?: 'expired' | 'asked';
}

/** Every problem with a set of interfaces' settings, as sentences; empty when they can be tried. */
export function trialProblems(settings: InterfaceSettings[], resolvers?: string[]): string[] {
  const problems = settings.flatMap((s) => validateInterface(s).map((p) => `${s.name}: ${p}`));
  const names = settings.map((s) => s.name);
  if (resolvers !== undefined && !Array.isArray(resolvers)) problems.push('the DNS servers are not a list');
  else if (resolvers) problems.push(...resolverProblems(resolvers.map(String)).map((p) => p.message));
  if (!settings.length && !resolvers) problems.push('no interface or DNS server given');
  if (new Set(names).size !== names.length) problems.push('an interface is listed twice');
  return problems;
}

async function readTrial(dir: string): Promise<NetworkTrial | null> {
  const text = await readFile(path.join(dir, TRIAL_FILE), 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    return JSON.parse(text) as NetworkTrial;
  } catch {
    return null;
  }
}

export interface TrialOptions {
  /** Tells root the record changed (default: nothing — on the box the path unit watches the file). */
  signal?: () => Promise<void>;
  now?: () => number;
  /** Told when a trial ends, for the audit log (the daemon's own timer has no request to record it). */
  onEnd?: (trial: NetworkTrial) => void;
  /** Where the kept box-wide resolvers' drop-in is stored (default RESOLVED_DIRS.dir). */
  resolvedDir?: string;
}

export class NetworkTrials {
  #dir: string;
  #o: TrialOptions;
  #current: NetworkTrial | null;
  #timer: NodeJS.Timeout | undefined;
  #waiting: ((t: NetworkTrial) => void)[] = [];

  private constructor(dir: string, current: NetworkTrial | null, o: TrialOptions) {
    this.#dir = dir;
    this.#current = current;
    this.#o = o;
  }

  /** Reads the record; a pending trial past its time is reverted now, one still running is timed again. */
  static async open(dir: string, o: TrialOptions = {}): Promise<NetworkTrials> {
    const trials = new NetworkTrials(dir, await readTrial(dir), o);
    const t = trials.#current;
    if (t?.state === 'pending') {
      if (Date.parse(t.revertAt) <= trials.#now()) await trials.#end('reverted', 'expired');
      else trials.#arm(Date.parse(t.revertAt) - trials.#now());
    }
    return trials;
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  get current(): NetworkTrial | null {
    return this.#current;
  }

  #arm(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#end('reverted', 'expired').catch(() => undefined), ms);
    this.#timer.unref();
  }

  async #write(trial: NetworkTrial): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    await writeAtomic(this.#dir, TRIAL_FILE, JSON.stringify(trial, null, 2) + '\n');
    this.#current = trial;
    await (this.#o.signal ?? (async () => undefined))();
  }

  async #end(state: 'confirmed' | 'reverted', reason?: 'expired' | 'asked'): Promise<NetworkTrial> {
    clearTimeout(this.#timer);
    const ended: NetworkTrial = { ...this.#current!, state, endedAt: new Date(this.#now()).toISOString(), ...(reason ? { reason } : {}) };
    await this.#write(ended);
    this.#o.onEnd?.(ended);
    for (const w of this.#waiting.splice(0)) w(ended);
    return ended;
  }

  /** The box's own resolvers as kept (resolved's persistent drop-in); none when it has none. */
  async resolvers(): Promise<string[]> {
    const text = await readFile(path.join(this.#o.resolvedDir ?? RESOLVED_DIRS.dir, RESOLVED_FILE), 'utf8').catch(() => '');
    return parseResolved(text);
  }

  /**
   * Starts a trial of interfaces' settings and/or the box's resolvers; throws with the problems
   * when they are wrong or another trial is running.
   */
  async start(settings: InterfaceSettings[], confirmSeconds: number, resolvers?: string[]): Promise<NetworkTrial> {
    const problems = trialProblems(settings, resolvers);
    if (this.#current?.state === 'pending') problems.push('another network change is waiting for its confirmation');
    if (problems.length) throw new TrialError(problems);
    const now = this.#now();
    await this.#write({ id: randomUUID(), settings, ...(resolvers ? { resolvers } : {}), startedAt: new Date(now).toISOString(), revertAt: new Date(now + confirmSeconds * 1000).toISOString(), state: 'pending' });
    this.#arm(confirmSeconds * 1000);
    return this.#current!;
  }

  /** Keeps the pending trial `id`; null when there is no such pending trial (already ended). */
  async confirm(id: string): Promise<NetworkTrial | null> {
    return this.#current?.id === id && this.#current.state === 'pending' ? this.#end('confirmed') : null;
  }

  /** Reverts the pending trial `id` now; null when there is no such pending trial. */
  async revert(id: string): Promise<NetworkTrial | null> {
    return this.#current?.id === id && this.#current.state === 'pending' ? this.#end('reverted', 'asked') : null;
  }

  /** Settles when the pending trial ends (at once with the current record when none is pending). */
  ended(): Promise<NetworkTrial | null> {
    if (this.#current?.state !== 'pending') return Promise.resolve(this.#current);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  close(): void {
    clearTimeout(this.#timer);
  }
}

/** A trial's settings in words, for the audit log: "eth0 static 192.0.2.10/24 via 192.0.2.1 (DNS 192.0.2.53)". */
export function describeTrial(t: Pick<NetworkTrial, 'settings' | 'resolvers'>): string {
  return [
    ...t.settings.map((s) => (s.mode === 'dhcp' ? `${s.name} by DHCP`
      : `${s.name} static ${s.address}/${s.prefix}${s.gateway ? ` via ${s.gateway}` : ''}${s.dns.length ? ` (DNS ${s.dns.join(', ')})` : ''}`)),
    ...(t.resolvers ? [`the box's DNS servers ${t.resolvers.length ? t.resolvers.join(', ') : 'none of its own (the interfaces\' only)'}`] : []),
  ].join('; ');
}

export class TrialError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`the network settings were not changed:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

export interface SyncOptions {
  /** Where the daemon's record is (<data>/system). */
  systemDir: string;
  /** networkd's persistent and runtime directories. */
  dir: string;
  runtimeDir: string;
  /** Makes networkd read its files again and reconfigure these interfaces (default: networkctlApply). */
  apply?: (interfaces: string[]) => Promise<void>;
  /** Where the kept resolvers' drop-in is stored and resolved's runtime drop-ins (default RESOLVED_DIRS), and how it re-reads them (default: resolvedApply). */
  resolved?: { dir: string; runtimeDir: string; apply?: () => Promise<void> };
}

/**
 * Root's side: makes networkd's files match the record, checking its values first (a record
 * with bad values changes nothing). Idempotent: what already matches is not rewritten, and
 * networkd is reloaded only when a file changed. Returns what it did, for the helper's log.
 */
export async function syncNetwork(o: SyncOptions): Promise<string[]> {
  const trial = await readTrial(o.systemDir);
  if (!trial) return [];
  const settings = Array.isArray(trial.settings) ? trial.settings : [];
  const problems = trialProblems(settings, trial.resolvers);
  if (problems.length) return [`network-trial.json refused: ${problems.join('; ')}`];
  const done: string[] = [];
  await mkdir(o.runtimeDir, { recursive: true, mode: 0o755 });
  const put = async (dir: string, name: string, content: string) => {
    const current = await readFile(path.join(dir, name), 'utf8').catch(() => undefined);
    if (current === content) return;
    await writeAtomic(dir, name, content);
    done.push(`wrote ${path.join(dir, name)}`);
  };
  const remove = async (dir: string, name: string) => {
    const current = await readFile(path.join(dir, name), 'utf8').catch(() => undefined);
    if (current === undefined) return;
    await rm(path.join(dir, name), { force: true });
    done.push(`removed ${path.join(dir, name)}`);
  };
  for (const s of settings) {
    if (trial.state === 'pending') await put(o.runtimeDir, candidateFileName(s.name), renderNetwork(s));
    else {
      if (trial.state === 'confirmed') await put(o.dir, fileName(s.name), renderNetwork(s));
      await remove(o.runtimeDir, candidateFileName(s.name));
    }
  }
  if (done.length) await (o.apply ?? networkctlApply)(settings.map((s) => s.name));
  if (trial.resolvers) {
    const r = o.resolved ?? RESOLVED_DIRS;
    const before = done.length;
    await mkdir(r.runtimeDir, { recursive: true, mode: 0o755 });
    if (trial.state === 'pending') await put(r.runtimeDir, RESOLVED_CANDIDATE, renderResolved(trial.resolvers));
    else {
      if (trial.state === 'confirmed') {
        await mkdir(r.dir, { recursive: true, mode: 0o755 });
        if (trial.resolvers.length) await put(r.dir, RESOLVED_FILE, renderResolved(trial.resolvers));
        else await remove(r.dir, RESOLVED_FILE);
      }
      await remove(r.runtimeDir, RESOLVED_CANDIDATE);
    }
    // What resolved reads follows the kept file (installed at boot by mailmoat-apply-system too).
    const kept = await readFile(path.join(r.dir, RESOLVED_FILE), 'utf8').catch(() => undefined);
    if (kept === undefined) await remove(r.runtimeDir, RESOLVED_FILE);
    else await put(r.runtimeDir, RESOLVED_FILE, kept);
    if (done.length > before) await (o.resolved?.apply ?? resolvedApply)();
  }
  return done;
}
