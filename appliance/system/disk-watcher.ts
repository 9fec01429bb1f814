// Disk watcher: measures the system filesystem, the data filesystem and the quarantine's share of
// the data filesystem, and turns the numbers into levels the rest of the box acts on:
//   ok -> warning (>= warnPercent: tell the admin) -> full (data >= hardLimitPercent: the SMTP
//   listeners answer 452 so that no acknowledged message can be lost to a full disk).
// Only changes of level are emitted, so a filesystem hovering at 81 % warns once, not every minute;
// going back below a threshold emits `recovered`.
import { EventEmitter } from 'node:events';
import path from 'node:path';
import si from 'systeminformation';
import type { DiskThresholds } from '../config/schema.ts';

export type DiskRole = 'system' | 'data';
export type DiskLevel = 'ok' | 'warning' | 'full';

export interface FilesystemUse {
  role: DiskRole;
  /** The directory watched, and the mount point of the filesystem holding it. */
  path: string;
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
  thresholds: DiskThresholds;
  /** Bytes the quarantine holds; the quarantine module owns that number. */
  quarantineBytes?: () => Promise<number> | number;
}

const RANK: Record<DiskLevel, number> = { ok: 0, warning: 1, full: 2 };

export class DiskWatcher extends EventEmitter<DiskWatcherEvents> {
  #options: DiskWatcherOptions;
  #status: DiskStatus | undefined;
  #timer: NodeJS.Timeout | undefined;
  #checking: Promise<DiskStatus> | undefined;

  constructor(options: DiskWatcherOptions) {
    super();
    this.#options = options;
  }

  /** Measures now and then every `checkSeconds`. */
  start(): void {
    if (this.#timer) return;
    void this.check().catch(() => {});
    this.#timer = setInterval(() => void this.check().catch(() => {}), this.#options.thresholds.checkSeconds * 1000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** New thresholds (after a configuration change) take effect at the next check, which runs now. */
  setThresholds(thresholds: DiskThresholds): void {
    this.#options = { ...this.#options, thresholds };
    if (this.#timer) {
      this.stop();
      this.start();
    }
  }

  get status(): DiskStatus | undefined {
    return this.#status;
  }

  /** True while the data filesystem is at or above the hard limit: new mail gets 452. */
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
    let mounts: si.Systeminformation.FsSizeData[];
    try {
      mounts = await si.fsSize();
    } catch (err) {
      const error = new Error(`cannot measure the filesystems: ${(err as Error).message}`);
      this.emit('error', error);
      throw error;
    }
    const filesystems: FilesystemUse[] = [];
    for (const [role, dir] of [['system', this.#options.systemPath], ['data', this.#options.dataPath]] as const) {
      const fs = holding(mounts, dir);
      if (!fs) {
        const error = new Error(`no mounted filesystem holds ${dir}`);
        this.emit('error', error);
        throw error;
      }
      const percent = fs.size > 0 ? round1((fs.used / fs.size) * 100) : 0;
      const level: DiskLevel = role === 'data' && percent >= thresholds.hardLimitPercent ? 'full'
        : percent >= thresholds.warnPercent ? 'warning' : 'ok';
      filesystems.push({ role, path: dir, mount: fs.mount, sizeBytes: fs.size, usedBytes: fs.used, percent, level });
    }
    const data = filesystems.find((f) => f.role === 'data')!;
    const quarantineBytes = (await this.#options.quarantineBytes?.()) ?? 0;
    const quarantinePercent = data.sizeBytes > 0 ? round1((quarantineBytes / data.sizeBytes) * 100) : 0;
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
      const before = previous?.filesystems.find((f) => f.role === fs.role)?.level ?? 'ok';
      this.#compare(fs.role, before, fs.level, fs.percent, fs.mount);
    }
    this.#compare('quarantine', previous?.quarantineLevel ?? 'ok', status.quarantineLevel, quarantinePercent, data.mount);
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

/** The mounted filesystem holding `dir`: the longest mount point that is a prefix of it. */
function holding(mounts: si.Systeminformation.FsSizeData[], dir: string): si.Systeminformation.FsSizeData | undefined {
  const target = path.resolve(dir);
  let best: si.Systeminformation.FsSizeData | undefined;
  for (const m of mounts) {
    const inside = target === m.mount || target.startsWith(m.mount.endsWith('/') ? m.mount : m.mount + '/');
    if (inside && (!best || m.mount.length > best.mount.length)) best = m;
  }
  return best;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
