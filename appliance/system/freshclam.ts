// freshclam, the virus signature updater: its settings and what its log says.
//
// Settings: the daemon renders the lines of freshclam.conf that follow the configuration (mirror,
// extra databases, proxy, checks per day) into <data>/system/freshclam.conf; root's
// mailmoat-apply-system puts them under its own fixed lines (database folder, owner, log, clamd to
// notify) after checking each, so the unprivileged daemon can never set anything else.
// Source "offline" excludes the official databases (they come by upload in the console), so a box
// without Internet access does not log a failure at every check.
//
// Status: freshclam (as a service or a run) appends to its log, one block per check, opened by
// "ClamAV update process started at <ctime>"; a block with an "ERROR:" line failed. The log is read
// from its end (the last LOG_TAIL_BYTES: freshclam rotates it at 1 MB), so "failing since" is the
// first failed check after the last good one within that window. Failing past FAILING_AFTER_MS is
// warned about once per episode, as stale signatures are (log, trap, mail).
import { open } from 'node:fs/promises';
import path from 'node:path';
import type { FreshclamSettings } from '../config/schema.ts';

/** freshclam's log, beside the databases (the daemon's group may read that folder on the image). */
export const FRESHCLAM_LOG = 'freshclam.log';
export const FAILING_AFTER_MS = 2 * 24 * 3600 * 1000;
const LOG_TAIL_BYTES = 256 * 1024;
const OFFICIAL_MIRROR = 'database.clamav.net';

/** The configuration's lines of freshclam.conf (see mailmoat-apply-system for the fixed ones). */
export function renderFreshclamSettings(s: FreshclamSettings): string {
  const lines = ['# Written by the Mailmoat daemon from system.freshclam in its configuration; do not edit.'];
  if (s.source === 'official') lines.push(`DatabaseMirror ${OFFICIAL_MIRROR}`);
  if (s.source === 'private') lines.push(`PrivateMirror ${s.mirrorUrl}`);
  if (s.source === 'offline') {
    // freshclam still needs a mirror setting; nothing is fetched from it with every database excluded.
    lines.push(`DatabaseMirror ${OFFICIAL_MIRROR}`, 'ExcludeDatabase main', 'ExcludeDatabase daily', 'ExcludeDatabase bytecode');
  }
  for (const url of s.customUrls) lines.push(`DatabaseCustomURL ${url}`);
  if (s.proxy.host) {
    lines.push(`HTTPProxyServer ${s.proxy.host}`, `HTTPProxyPort ${s.proxy.port}`);
    if (s.proxy.username) lines.push(`HTTPProxyUsername ${s.proxy.username}`, `HTTPProxyPassword ${s.proxy.password}`);
  }
  lines.push(`Checks ${s.checksPerDay}`);
  return lines.join('\n') + '\n';
}

/** The fixed lines a run outside the image needs (tests; the image's are in mailmoat-apply-system). */
export function freshclamBase(o: { databaseDir: string; logFile: string; clamdConf?: string }): string {
  return [`DatabaseDirectory ${o.databaseDir}`, `UpdateLogFile ${o.logFile}`, 'LogTime yes', 'LogRotate yes', 'LogFileMaxSize 1M',
    'MaxAttempts 1', 'ConnectTimeout 10', ...(o.clamdConf ? [`NotifyClamd ${o.clamdConf}`] : [])].join('\n') + '\n';
}

export interface FreshclamRun {
  startedAt: string;
  ok: boolean;
  /** The most telling error line of a failed check. */
  error?: string;
  /** Databases downloaded in this check ("daily.cld", "custom.ndb"). */
  updated: string[];
}

export interface FreshclamStatus {
  /** No check in the log yet (freshclam never ran, or its log is unreadable). */
  lastRun?: FreshclamRun;
  lastSuccessAt?: string;
  /** The last failed check the log still holds (freshclam rotates it at 1 MB). */
  lastFailureAt?: string;
  /** The first failed check after the last good one, while the last check failed. */
  failingSince?: string;
  /** Failed checks in a row, up to the last. */
  failuresInARow: number;
  /** Failing for longer than two days. */
  failingLong: boolean;
}

const STARTED = /ClamAV update process started at (.+)$/;
// "Mon Nov 30 13:52:19 2026 -> ERROR: text" (LogTime) or "ERROR: text".
const LINE = /^(?:.*? -> )?(ERROR|WARNING): (.*)$/;
const GENERIC = /^(Update failed\.|Database update process failed)/;
const UPDATED = /^(?:.*? -> )?(\S+) updated \(version/;

/** Parses freshclam's log text (its tail); `now` decides whether the failure is old. */
export function parseFreshclamLog(text: string, now = Date.now()): FreshclamStatus {
  const runs: FreshclamRun[] = [];
  for (const line of text.split('\n')) {
    const started = STARTED.exec(line);
    if (started) {
      const at = Date.parse(started[1]);
      runs.push({ startedAt: new Date(Number.isFinite(at) ? at : 0).toISOString(), ok: true, updated: [] });
      continue;
    }
    const run = runs.at(-1);
    if (!run) continue;
    const m = LINE.exec(line);
    if (m?.[1] === 'ERROR') {
      run.ok = false;
      // The generic closing lines say less than the first specific one.
      const detail = m[2].trim();
      if (!run.error || (GENERIC.test(run.error) && !GENERIC.test(detail))) run.error = detail;
    }
    const u = UPDATED.exec(line);
    if (u) run.updated.push(u[1]);
  }
  const lastRun = runs.at(-1);
  const lastGood = runs.findLastIndex((r) => r.ok);
  const failing = lastRun && !lastRun.ok ? runs.slice(lastGood + 1) : [];
  const failingSince = failing[0]?.startedAt;
  const lastFailure = runs.findLast((r) => !r.ok);
  return {
    ...(lastRun ? { lastRun } : {}),
    ...(lastGood >= 0 ? { lastSuccessAt: runs[lastGood].startedAt } : {}),
    ...(lastFailure ? { lastFailureAt: lastFailure.startedAt } : {}),
    ...(failingSince ? { failingSince } : {}),
    failuresInARow: failing.length,
    failingLong: failingSince !== undefined && now - Date.parse(failingSince) > FAILING_AFTER_MS,
  };
}

/** freshclam's status from its log in `databaseDir`. */
export async function freshclamStatus(databaseDir: string, now = Date.now()): Promise<FreshclamStatus> {
  let text = '';
  try {
    const handle = await open(path.join(databaseDir, FRESHCLAM_LOG), 'r');
    try {
      const { size } = await handle.stat();
      const start = Math.max(0, size - LOG_TAIL_BYTES);
      const buf = Buffer.alloc(size - start);
      await handle.read(buf, 0, buf.length, start);
      text = buf.toString('utf8');
      // A tail read starts mid-line: drop the partial first line.
      if (start > 0) text = text.slice(text.indexOf('\n') + 1);
    } finally {
      await handle.close();
    }
  } catch {
    // No log yet: freshclam has not run (or runs elsewhere); the status says so by having no lastRun.
  }
  return parseFreshclamLog(text, now);
}

/** One warning when freshclam has been failing for two days, one when it works again. */
export class FreshclamWatch {
  #failing: boolean | undefined;

  update(status: FreshclamStatus): { failing: boolean; message: string } | undefined {
    if (status.failingLong === this.#failing) return undefined;
    const first = this.#failing === undefined;
    this.#failing = status.failingLong;
    if (!status.failingLong) return first ? undefined : { failing: false, message: `freshclam updates the virus signatures again (last good check ${status.lastSuccessAt})` };
    return {
      failing: true,
      message: `freshclam has been failing since ${status.failingSince} (${status.failuresInARow} checks in a row): ${status.lastRun?.error ?? 'see its log'}; check the signature mirror and proxy settings`,
    };
  }
}
