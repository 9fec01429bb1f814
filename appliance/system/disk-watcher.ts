// Disk watcher: measures the system filesystem, the filesystems holding the mail data (the data
// directory, the spool and the quarantine, which may be separate mounts) and the quarantine's share
// of its filesystem, and turns the numbers into levels the rest of the box acts on:
//   ok -> warning (>= warnPercent: tell the admin) -> full (a data filesystem >= hardLimitPercent:
//   the SMTP listeners answer 452 so that no acknowledged message can be lost to a full disk).
// Each path is measured with statfs on the path itself, so whatever is mounted there (tmpfs, a
// bind mount, a filesystem a mount-table reader does not list) is the one measured; a path that
// cannot be measured is an error, never a silent fallback to another filesystem. Used space is
// counted as df counts it: against what an unprivileged writer (the daemon) can still use.
// Only changes of level are emitted, so a filesystem hovering at 81 % warns once, not every minute;
// going back below a threshold emits `recovered`.
import { EventEmitter } from 'node:events';
import { stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import type { DiskThresholds } from '../config/schema.ts';

export type DiskRole = 'system' | 'data';
export type DiskLevel = 'ok' | 'warning' | 'full';

export interface FilesystemUse {
  role: DiskRole;
  /** The first directory watched on it (all of them in `paths`), and its mount point. */
  path: string;
  paths: string[];
  mount: string;
  sizeBytes: number;
  usedBytes: number;
  percent: number;
  level: DiskLevel;
}

export interface DiskStatus {
  filesystems: FilesystemUse[];
  /** Bytes held by the quarantine and their share (%) of the data filesystem. */
  quarantineBytes: number;
  quarantinePercent: number;
  quarantineLevel: 'ok' | 'warning';
  checkedAt: Date;
}

export interface DiskEvent {
  role: DiskRole | 'quarantine';
  level: DiskLevel;
  previous: DiskLevel;
  percent: number;
  /** A sentence for the admin: what crossed which threshold and what the box does about it. */
  message: string;
}

export interface DiskWatcherEvents {
  /** A level changed upwards (warning or full). */
  alert: [event: DiskEvent];
  /** A level went back down (to ok, or from full to warning). */
  recovered: [event: DiskEvent];
  /** A measurement could not be taken (the previous status stays in force). */
  error: [error: Error];
}

export interface DiskWatcherOptions {
  /** Directories on the filesystems to watch: `/` and the data directory on the box. */
  systemPath: string;
  dataPath: string;
  /** More directories holding mail data (spool, quarantine): their filesystems count as data too. */
  moreDataPaths?: string[];
  /** The quarantine's directory, whose filesystem its share is measured against (default: dataPath). */
  quarantinePath?: string;
  thresholds: DiskThresholds;
  /** Bytes the quarantine holds; the quarantine module owns that number. */
  quarantineBytes?: () => Promise<number> | number;
}

const RANK: Record<DiskLevel, number> = { ok: 0, warning: 1, full: 2 };

export class DiskWatcher extends EventEmitter<DiskWatcherEvents> {
  #options: DiskWatcherOptions;
  #status: DiskStatus | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #generation = 0;
  #checking: Promise<DiskStatus> | undefined;

  constructor(options: DiskWatcherOptions) {
    super();
    this.#options = options;
  }

  /** Measures now and then every `nextCheckSeconds`. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    const generation = ++this.#generation;
    const round = () => {
      void this.check().catch(() => {}).finally(() => {
        if (this.#running && generation === this.#generation) this.#timer = setTimeout(round, this.nextCheckSeconds * 1000).unref();
      });
    };
    round();
  }

  stop(): void {
    this.#running = false;
    this.#generation++;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Seconds until the next measurement: `checkSeconds`, but at most 5 while a data filesystem is
   * at or past its warning level, so mail arriving fast cannot fill it far past the hard limit
   * between two measurements.
   */
  get nextCheckSeconds(): number {
    const { checkSeconds } = this.#options.thresholds;
    const near = this.#status?.filesystems.some((f) => f.role === 'data' && f.level !== 'ok');
    return near ? Math.min(5, checkSeconds) : checkSeconds;
  }

  /** New thresholds (after a configuration change) take effect at the next check, which runs now. */
  setThresholds(thresholds: DiskThresholds): void {
    this.#options = { ...this.#options, thresholds };
    if (this.#running) {
      this.stop();
      this.start();
    }
  }

  get status(): DiskStatus | undefined {
    return this.#status;
  }

  /** True while a data filesystem is at or above the hard limit: new mail gets 452. */
  isAboveHardLimit(): boolean {
    return this.#status?.filesystems.some((f) => f.role === 'data' && f.level === 'full') ?? false;
  }

  /** Measures the filesystems once, updates the status and emits level changes. */
  check(): Promise<DiskStatus> {
    this.#checking ??= this.#measure().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async #measure(): Promise<DiskStatus> {
    const { thresholds } = this.#options;
    const dataPaths = [this.#options.dataPath, ...(this.#options.moreDataPaths ?? [])];
    let measured: { role: DiskRole; dir: string; fs: Measured }[];
    try {
      measured = await Promise.all([
        { role: 'system' as const, dir: this.#options.systemPath },
        ...dataPaths.map((dir) => ({ role: 'data' as const, dir })),
      ].map(async (w) => ({ ...w, fs: await measureFilesystem(w.dir) })));
    } catch (err) {
      const error = err as Error;
      this.emit('error', error);
      throw error;
    }
    // One entry per role and filesystem: the data directory, spool and quarantine usually share one.
    const filesystems: FilesystemUse[] = [];
    for (const { role, dir, fs } of measured) {
      const same = filesystems.find((f) => f.role === role && f.mount === fs.mount);
      if (same) {
        same.paths.push(dir);
        continue;
      }
      const level: DiskLevel = role === 'data' && fs.percent >= thresholds.hardLimitPercent ? 'full'
        : fs.percent >= thresholds.warnPercent ? 'warning' : 'ok';
      filesystems.push({ role, path: dir, paths: [dir], mount: fs.mount, sizeBytes: fs.sizeBytes, usedBytes: fs.usedBytes, percent: fs.percent, level });
    }
    const quarantineDir = this.#options.quarantinePath ?? this.#options.dataPath;
    const home = filesystems.find((f) => f.role === 'data' && f.paths.includes(quarantineDir))!;
    const quarantineBytes = (await this.#options.quarantineBytes?.()) ?? 0;
    const quarantinePercent = home.sizeBytes > 0 ? round1((quarantineBytes / home.sizeBytes) * 100) : 0;
    const status: DiskStatus = {
      filesystems,
      quarantineBytes,
      quarantinePercent,
      quarantineLevel: quarantinePercent >= thresholds.quarantineWarnPercent ? 'warning' : 'ok',
      checkedAt: new Date(),
    };
    const previous = this.#status;
    this.#status = status;
    for (const fs of filesystems) {
      const before = previous?.filesystems.find((f) => f.role === fs.role && f.mount === fs.mount)?.level ?? 'ok';
      this.#compare(fs.role, before, fs.level, fs.percent, fs.mount);
    }
    this.#compare('quarantine', previous?.quarantineLevel ?? 'ok', status.quarantineLevel, quarantinePercent, home.mount);
    return status;
  }

  #compare(role: DiskEvent['role'], previous: DiskLevel, level: DiskLevel, percent: number, mount: string): void {
    if (level === previous) return;
    const { thresholds } = this.#options;
    const what = role === 'quarantine' ? `the quarantine takes ${percent} % of the data filesystem (${mount})`
      : `the ${role} filesystem (${mount}) is ${percent} % full`;
    let message: string;
    if (level === 'full') {
      message = `${what}: at the hard limit of ${thresholds.hardLimitPercent} %, new mail is refused with 452 until space is freed`;
    } else if (level === 'warning') {
      message = role === 'quarantine'
        ? `${what} (warning at ${thresholds.quarantineWarnPercent} %): shorten the quarantine retention or delete messages`
        : `${what} (warning at ${thresholds.warnPercent} %)` + (role === 'data' ? `; mail is refused at ${thresholds.hardLimitPercent} %` : '');
    } else {
      message = `${what}: back below the warning threshold`;
    }
    const event: DiskEvent = { role, level, previous, percent, message };
    this.emit(RANK[level] > RANK[previous] ? 'alert' : 'recovered', event);
  }
}

export interface Measured { mount: string; sizeBytes: number; usedBytes: number; percent: number }

/**
 * statfs on the directory itself, and its mount point (the topmost ancestor on the same device).
 * The one measure of a filesystem's use: the watcher, the status and the menu's diagnostics agree.
 */
export async function measureFilesystem(dir: string): Promise<Measured> {
  const target = path.resolve(dir);
  try {
    const fs = await statfs(target);
    const dev = (await stat(target)).dev;
    let mount = target;
    while (path.dirname(mount) !== mount && (await stat(path.dirname(mount))).dev === dev) mount = path.dirname(mount);
    const sizeBytes = fs.blocks * fs.bsize;
    const usedBytes = (fs.blocks - fs.bfree) * fs.bsize;
    // As df: the share of what an unprivileged writer can have (root's reserved blocks excluded).
    const usable = usedBytes + fs.bavail * fs.bsize;
    return { mount, sizeBytes, usedBytes, percent: usable > 0 ? round1((usedBytes / usable) * 100) : 0 };
  } catch (err) {
    throw new Error(`cannot measure the filesystem holding ${target}: ${(err as Error).message}`);
  }
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
