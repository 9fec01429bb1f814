// Retention: quarantined messages older than `filtering.quarantine.retentionDays` (1–30, default
// 30) are deleted with their files. The job runs at start and then hourly; it also removes message
// files left without a record by a crash between storing the file and writing its record.
import type { ConfigService } from '../config/config-service.ts';
import type { Quarantine } from './quarantine-store.ts';

const DAY = 24 * 60 * 60 * 1000;

export async function purgeExpired(quarantine: Quarantine, retentionDays: number, now = Date.now()): Promise<{ messages: number; orphans: number }> {
  const cutoff = now - retentionDays * DAY;
  const expired = [];
  for await (const r of quarantine.olderThan(cutoff)) expired.push(r);
  for (const r of expired) await quarantine.remove(r);
  const orphans = await quarantine.removeOrphans(now - DAY);
  return { messages: expired.length, orphans };
}

/** Starts the hourly job; returns a function that stops it. Errors go to `onError`, the job keeps running. */
export function startRetention(quarantine: Quarantine, config: ConfigService, onError: (err: Error) => void, intervalMs = 60 * 60 * 1000): () => void {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      await purgeExpired(quarantine, config.current.filtering.quarantine.retentionDays);
    } catch (err) {
      onError(err as Error);
    } finally {
      running = false;
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
