// The dashboard's and System page's live figures: mail flow of the last 24 hours (from the
// statistics counters, or for a mailbox user from the message log), the queue, the state of the
// daemon's own services (listeners, clamd, and on the appliance the systemd units) and the disks.
import type { Config } from '../../config/schema.ts';
import type { MessageLog } from '../../logsearch/message-log.ts';
import { ping } from '../../pipeline/clamd-client.ts';
import type { Stats } from '../../stats/counters.ts';
import type { DiskWatcher } from '../../system/disk-watcher.ts';
import { serviceStates } from '../../system/services.ts';
import os from 'node:os';
import type { FlowCounts, ServiceState, StatsProvider, SystemProvider } from './interfaces.ts';

const DAY_MS = 86_400_000;

export function statsProvider(stats: Stats, log: MessageLog): StatsProvider {
  return {
    async last24h(scope) {
      const since = Date.now() - DAY_MS;
      if ('address' in scope) {
        // Counters are kept per domain; one mailbox's figures come from its log records.
        const counts: FlowCounts = { received: 0, delivered: 0, quarantined: 0, rejected: 0, tagged: 0 };
        const mine = scope.address.toLowerCase();
        for await (const r of log.newest()) {
          if (r.receivedAt < since) break;
          const rcpt = r.recipients.find((x) => x.address.toLowerCase() === mine || x.original.toLowerCase() === mine);
          if (!rcpt) continue;
          counts.received += 1;
          if (rcpt.status === 'delivered') counts.delivered += 1;
          if (rcpt.tagged) counts.tagged += 1;
          if (rcpt.status === 'quarantined') counts.quarantined += 1;
          if (rcpt.status === 'rejected') counts.rejected += 1;
        }
        return counts;
      }
      const c = await stats.range('all' in scope ? 'all' : scope.domains, 'hour', since, Date.now());
      return { ...c };
    },
  };
}

export function systemProvider(o: { config: () => Config; disks: DiskWatcher; listening: () => string[]; appliance: boolean; clamd?: string }): SystemProvider {
  return {
    async services() {
      const av = o.config().filtering.antivirus;
      const own: ServiceState[] = [
        ...['inbound', 'submission'].map((kind): ServiceState => ({
          name: `smtp-${kind}`, state: o.listening().includes(kind) ? 'running' : 'stopped',
        })),
        av.enabled
          ? { name: 'clamd', state: (await ping(o.clamd ?? av.clamd)) ? 'running' : 'failed', detail: o.clamd ?? av.clamd }
          : { name: 'clamd', state: 'stopped', detail: 'antivirus disabled in the configuration' },
      ];
      if (!o.appliance) return own;
      const units = await serviceStates();
      return [...own, ...units.map(({ name, state }): ServiceState => ({
        name, state: state === 'active' ? 'running' : state === 'failed' ? 'failed' : state === 'inactive' ? 'stopped' : 'unknown',
      }))];
    },
    async disks() {
      const status = o.disks.status ?? await o.disks.check();
      return status.filesystems.map((f) => ({
        mount: f.mount, sizeBytes: f.sizeBytes, usedBytes: f.usedBytes,
        state: f.level === 'full' ? 'critical' as const : f.level,
      }));
    },
    async network() {
      return Object.entries(os.networkInterfaces()).map(([name, list]) => ({
        name, addresses: (list ?? []).map((a) => a.cidr ?? a.address), ...(list?.[0]?.mac ? { mac: list[0].mac } : {}),
      }));
    },
  };
}
