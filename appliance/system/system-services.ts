// The appliance side of the daemon, started by the composition root: the disk watcher (whose
// isAboveHardLimit() the SMTP session asks before accepting mail), the SNMP subagent, and the
// system daemons' settings files. Disk alerts go to the log (the journal, with syslog priority,
// hence rsyslog and remote syslog), to SNMP traps, and to the admin by mail when a sender is given;
// so do virus signatures turning stale (older than two days) and fresh again, and freshclam failing
// for two days and working again (one trap kind, signaturesStale, for both), checked hourly.
import path from 'node:path';
import type { ConfigService } from '../config/config-service.ts';
import type { AdminAlarm } from './admin-notice.ts';
import { DiskWatcher, type DiskEvent } from './disk-watcher.ts';
import { serviceStates } from './services.ts';
import { SnmpSubagent, type MailmoatStats } from './snmp-agent.ts';
import { writeSystemConfigFiles } from './system-config-files.ts';
import { StalenessWatch, type SignatureStatus } from './signatures.ts';
import { FreshclamWatch, type FreshclamStatus } from './freshclam.ts';

export type MailCounters = Omit<MailmoatStats, 'diskSystemPercent' | 'diskDataPercent' | 'diskState' | 'services'>;

export interface SystemServicesOptions {
  config: ConfigService;
  dataDir: string;
  /** The daemon's counters (messages, queue, quarantine size). */
  getCounters: () => MailCounters | Promise<MailCounters>;
  /** Bytes held by the quarantine, for the disk watcher's share check. */
  quarantineBytes?: () => Promise<number> | number;
  /** A log line with its syslog priority (journald reads the "<N>" prefix). */
  say?: (line: string) => void;
  /** Mails the admin contact; omitted when the daemon cannot send mail yet. */
  notifyAdmin?: (alarm: AdminAlarm, detail: string) => Promise<void>;
  /** On the appliance: write snmpd's and rsyslog's settings to <data>/system and start the subagent. */
  appliance?: boolean;
  /** The ClamAV databases' state (appliance only: SNMP objects and the staleness warning). */
  signatures?: () => Promise<SignatureStatus>;
  /** freshclam's checks as its log tells them (failing past two days is warned about like staleness). */
  freshclam?: () => Promise<FreshclamStatus>;
  /** How often the signatures' age is checked (default hourly). */
  signatureCheckMs?: number;
}

export interface SystemServices {
  disks: DiskWatcher;
  snmp: SnmpSubagent | undefined;
  stop(): Promise<void>;
}

/** freshclam's status as the MIB's figures: failed checks in a row, seconds since the last failed one. */
export function freshclamFigures(f: FreshclamStatus, now = Date.now()): NonNullable<MailmoatStats['freshclam']> {
  return {
    failuresInARow: f.failuresInARow,
    ...(f.lastFailureAt ? { lastFailureAgeSeconds: Math.max(0, Math.round((now - Date.parse(f.lastFailureAt)) / 1000)) } : {}),
  };
}

export async function startSystemServices(o: SystemServicesOptions): Promise<SystemServices> {
  const say = o.say ?? ((line: string) => console.log(line));
  const system = () => o.config.current.system;
  const disks = new DiskWatcher({
    systemPath: '/', dataPath: o.dataDir, thresholds: system().disk, quarantineBytes: o.quarantineBytes,
    moreDataPaths: [path.join(o.dataDir, 'spool'), path.join(o.dataDir, 'quarantine')], quarantinePath: path.join(o.dataDir, 'quarantine'),
  });
  // Made before the first disk check so that a warning raised at start is held for snmpd (the
  // subagent sends it once registered) instead of being lost.
  const snmp: SnmpSubagent | undefined = o.appliance ? new SnmpSubagent({
    masterPort: system().snmp.agentxPort,
    getStats: async () => {
      const status = disks.status;
      const data = status?.filesystems.filter((f) => f.role === 'data').sort((a, b) => b.percent - a.percent)[0];
      const root = status?.filesystems.find((f) => f.role === 'system');
      const levels = status?.filesystems.map((f) => f.level) ?? [];
      return {
        ...(await o.getCounters()),
        diskSystemPercent: root?.percent ?? 0,
        diskDataPercent: data?.percent ?? 0,
        diskState: levels.includes('full') ? 'full' : levels.includes('warning') ? 'warning' : 'ok',
        services: await serviceStates(),
        ...(o.signatures ? { signatures: await o.signatures().then((st) => ({ version: Math.max(0, ...st.databases.map((d) => d.version)), ageSeconds: st.ageSeconds })) } : {}),
        ...(o.freshclam ? { freshclam: freshclamFigures(await o.freshclam()) } : {}),
      };
    },
  }) : undefined;
  let signatureTimer: NodeJS.Timeout | undefined;

  const alert = (e: DiskEvent) => {
    say(`<${e.level === 'full' ? 2 : 4}>mailmoat: disk ${e.level}: ${e.message}`);
    void snmp?.trap('diskThreshold', e.message);
    void o.notifyAdmin?.(e.level === 'full' ? 'diskFull' : 'diskWarning', e.message)
      .catch((err: Error) => say(`<4>mailmoat: could not mail the admin about the disk: ${err.message}`));
  };
  disks.on('alert', alert);
  disks.on('recovered', (e) => {
    say(`<5>mailmoat: disk ${e.role} recovered: ${e.message}`);
    void snmp?.trap('diskThreshold', e.message);
  });
  disks.on('error', (err) => say(`<3>mailmoat: disk watcher: ${err.message}`));
  // A disk that cannot be measured could fill up unnoticed: refuse to start (the error names the path).
  await disks.check();
  disks.start();

  if (snmp) {
    const writeFiles = () => writeSystemConfigFiles(path.join(o.dataDir, 'system'), o.config.current)
      .then((written) => { if (written.length) say(`mailmoat: system settings written: ${written.join(', ')}`); })
      .catch((err: Error) => say(`<3>mailmoat: cannot write the system settings files: ${err.message}`));
    await writeFiles();
    snmp.on('disconnected', (reason) => say(`<4>mailmoat: SNMP subagent: ${reason}; reconnecting`));
    snmp.on('ready', () => say('mailmoat: SNMP subagent registered the Mailmoat MIB with snmpd'));
    void snmp.start();
    if (o.signatures) {
      const read = o.signatures;
      const watch = new StalenessWatch();
      const check = () => read().then((status) => {
        const change = watch.update(status);
        if (!change) return;
        say(`<${change.stale ? 4 : 5}>mailmoat: ${change.message}`);
        void snmp?.trap('signaturesStale', change.message);
        if (change.stale) {
          void o.notifyAdmin?.('signaturesStale', change.message)
            .catch((err: Error) => say(`<4>mailmoat: could not mail the admin about the signatures: ${err.message}`));
        }
      }).catch((err: Error) => say(`<3>mailmoat: cannot read the virus signatures' state: ${err.message}`));
      const fresh = new FreshclamWatch();
      const readFreshclam = o.freshclam;
      const checkFreshclam = () => readFreshclam?.().then((status) => {
        const change = fresh.update(status);
        if (!change) return;
        say(`<${change.failing ? 4 : 5}>mailmoat: ${change.message}`);
        void snmp?.trap('signaturesStale', change.message);
        if (change.failing) {
          void o.notifyAdmin?.('signatureUpdatesFailing', change.message)
            .catch((err: Error) => say(`<4>mailmoat: could not mail the admin about freshclam: ${err.message}`));
        }
      }).catch((err: Error) => say(`<3>mailmoat: cannot read freshclam's log: ${err.message}`));
      const both = () => { void check(); void checkFreshclam(); };
      both();
      signatureTimer = setInterval(both, o.signatureCheckMs ?? 3600_000).unref();
    }
    o.config.on('change', (next, previous) => {
      if (JSON.stringify(next.system.disk) !== JSON.stringify(previous.system.disk)) disks.setThresholds(next.system.disk);
      void writeFiles();
    });
  } else {
    o.config.on('change', (next, previous) => {
      if (JSON.stringify(next.system.disk) !== JSON.stringify(previous.system.disk)) disks.setThresholds(next.system.disk);
    });
  }

  return {
    disks,
    snmp,
    async stop() {
      clearInterval(signatureTimer);
      disks.stop();
      await snmp?.stop();
    },
  };
}
