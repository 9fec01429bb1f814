// The composition root: opens the store, loads the configuration, recovers the queue, and starts
// the SMTP listeners and delivery; stops them in the reverse order. Everything a service needs is
// passed in here, so each module stays testable on its own.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { SMTPServer } from 'smtp-server';
import { startConsole, type ConsoleServer } from './api/server.ts';
import { DEFAULT_SOCKET, startLocalApi, type LocalApi } from './api/local-socket.ts';
import { readableDomainSets } from './api/guard.ts';
import { listsProvider } from './api/providers/lists.ts';
import { messageLogProvider } from './api/providers/message-log.ts';
import { UserStore } from './api/users.ts';
import { quarantineProvider } from './api/providers/quarantine.ts';
import { queueProvider } from './api/providers/queue.ts';
import { statsProvider, systemProvider } from './api/providers/status.ts';
import { statisticsProvider } from './api/providers/statistics.ts';
import { trainingProvider } from './api/providers/training.ts';
import { quotaProvider } from './api/providers/quota.ts';
import { createAccept, createRcptRefusalLog } from './accept/accept.ts';
import { servedDomain } from './config/served-domains.ts';
import { withFeedbackMail } from './accept/feedback-mail.ts';
import { AuditLog } from './api/audit.ts';
import type { MessageFilter } from './accept/message-filter.ts';
import { Classifier } from './classifier/index.ts';
import { ConfigService } from './config/config-service.ts';
import type { Config, MailDirection } from './config/schema.ts';
import { DeliveryQueue } from './delivery/queue.ts';
import { MxResolver } from './delivery/mx.ts';
import { SmtpClient } from './delivery/smtp-client.ts';
import { formatMailEvent, type MailEvent } from './logsearch/mail-events.ts';
import { MessageLog, startLogRetention } from './logsearch/message-log.ts';
import { createCachingResolver, systemResolver, type Resolver } from './dns/cache.ts';
import { ListsStore } from './lists/lists-store.ts';
import { createPipeline, type Pipeline } from './pipeline/pipeline.ts';
import { createQuarantineActions, type QuarantineActions } from './quarantine/actions.ts';
import { Quarantine } from './quarantine/quarantine-store.ts';
import { startRetention } from './quarantine/retention.ts';
import { loadLinkKey } from './reports/links.ts';
import { ReportService } from './reports/reports.ts';
import type { Totals } from './reports/render.ts';
import { startTicker } from './reports/schedule.ts';
import { QuarantineQuota } from './quarantine/quota.ts';
import { AuthLimits } from './smtp/auth-limits.ts';
import { CalloutVerifier } from './smtp/callout.ts';
import { ClientLimits } from './smtp/client-limits.ts';
import { createListener, type ListenerKind } from './smtp/listener.ts';
import { RecipientPolicy } from './smtp/recipient-policy.ts';
import { ReverseDns } from './smtp/reverse-dns.ts';
import { Greylist, startGreylistSweep } from './smtp/greylist.ts';
import { Screening } from './smtp/screening.ts';
import { loadTlsIdentity, type TlsIdentity } from './smtp/tls.ts';
import { Spool } from './spool/spool.ts';
import { startStatsRetention, Stats, type Counts } from './stats/counters.ts';
import { GaugeSampler } from './stats/gauges.ts';
import { adminAlarmText, adminNotice, type AdminAlarm } from './system/admin-notice.ts';
import { applyStagedRestore } from './backup/backup.ts';
import { signatureStatus, SIGNATURES_DIR } from './system/signatures.ts';
import { freshclamStatus } from './system/freshclam.ts';
import { RemoteBackup } from './system/remote-backup.ts';
import { supportBundle } from './system/support-bundle.ts';
import { version as clamdVersion } from './pipeline/clamd-client.ts';
import { startSystemServices, type MailCounters, type SystemServices } from './system/system-services.ts';
import { openStore, type Store } from './store/store.ts';
import { consoleUrls } from './system/console-urls.ts';
import { trialGuard } from './system/updates.ts';

export interface ApplianceOptions {
  dataDir: string;
  /** A YAML/JSON configuration that replaces the stored one (refused whole if invalid). */
  configFile?: string;
  /** Use configFile only when no configuration is stored yet (the image's first boot). */
  seedOnly?: boolean;
  /** Replaces the filtering pipeline (tests of the bare mail path). */
  filter?: MessageFilter;
  /** DNS for every lookup — SPF/DKIM/DMARC, MX, PTR — (tests serve their own zone); default: relay.resolver or the system's. Cached either way. */
  resolver?: Resolver;
  /** clamd socket path or host:port, overriding filtering.antivirus.clamd (tests start their own clamd). */
  clamd?: string;
  /** Start the web console (default true). */
  console?: boolean;
  /** Install the shipped starter model into an empty classifier (default true). */
  starterModel?: boolean;
  /** Running on the appliance image: write snmpd/rsyslog settings and register the SNMP subagent. */
  appliance?: boolean;
  /** Unix socket of the local API for the console menu (default with `appliance`: /run/mailmoat/api.sock; otherwise none). */
  localSocket?: string;
  /** The ClamAV databases and freshclam's log (default /var/lib/clamav; tests give their own). */
  signaturesDir?: string;
  /** Where status lines go (default: stdout). */
  say?: (line: string) => void;
  /** The clock greylisting and the reports read (tests move it instead of waiting); default: the system's. */
  now?: () => number;
  /** Called when the console staged a restore: the caller restarts the appliance to swap it in. */
  onRestoreStaged?: () => void;
  /** The Japanese font of PDF reports; default the Debian package's (appliance/reports/pdf.ts). */
  reportFont?: string;
}

export interface Appliance {
  store: Store;
  config: ConfigService;
  queue: DeliveryQueue;
  log: MessageLog;
  spool: Spool;
  tls: TlsIdentity;
  stats: Stats;
  /** Samples the queue and quarantine sizes into the statistics (every 5 minutes; tests call sample()). */
  gauges: GaugeSampler;
  /** The mail counters and queue figures SNMP serves (the subagent's getStats without the disks and services). */
  counters(): Promise<MailCounters>;
  /** SMTP AUTH brute-force limits and the count of refused attempts (SNMP mmAuthFailures). */
  authLimits: AuthLimits;
  system: SystemServices;
  classifier: Classifier;
  quarantine: Quarantine;
  quarantineActions: QuarantineActions;
  /** Quarantine quotas (usage against limits, warnings, enforcement). */
  quota: QuarantineQuota;
  lists: ListsStore;
  pipeline: Pipeline;
  greylist: Greylist;
  /** Quarantine digests, domain reports, notices and their action links (appliance/reports/). */
  reports: ReportService;
  /** The console's URL and server when it runs. */
  consoleUrl?: string;
  console?: ConsoleServer;
  /** Bound ports (useful when the configuration asks for port 0). */
  ports(): Record<ListenerKind, number>;
  stop(): Promise<void>;
}

export async function startAppliance(opts: ApplianceOptions): Promise<Appliance> {
  const say = opts.say ?? ((line: string) => console.log(line));
  // A restore staged by the console (or left by a crash midway through its swap) goes in first.
  const restored = await applyStagedRestore(opts.dataDir);
  if (restored) say(restored);
  const store = await openStore(opts.dataDir);
  try {
    const config = await ConfigService.open(store, opts.configFile, { seedOnly: opts.seedOnly, say });
    config.guard(trialGuard(opts.dataDir));
    return await startServices(opts, store, config, say);
  } catch (err) {
    await store.close();
    throw err;
  }
}

async function startServices(opts: ApplianceOptions, store: Store, config: ConfigService, say: (line: string) => void): Promise<Appliance> {
  const current = () => config.current;
  // The one DNS cache: authentication checks, MX lookups and the listeners' PTR lookups ask through it.
  const dns = createCachingResolver(opts.resolver ?? systemResolver(current().relay.resolver), { maxSeconds: current().filtering.dnsCacheMaxSeconds });
  // The host name is read at each use: a change in the console reaches outgoing SMTP at once
  // (the listeners restart for it, below).
  const callout = new CalloutVerifier(store, () => current().hostname);
  let policy = new RecipientPolicy(current(), callout);
  const spool = await Spool.open(opts.dataDir);
  const log = await MessageLog.open(store, (result) => say(result instanceof Error
    ? `mailmoat: rebuilding the message log indexes failed: ${result.message} (run "mailmoat reindex-log" with the daemon stopped)`
    : `mailmoat: message log indexes rebuilt from ${result.records} record(s)`));
  if (!log.indexed) say('mailmoat: rebuilding the message log indexes in the background (searches walk the records meanwhile)');
  const client = new SmtpClient({ heloName: () => current().hostname, connectTimeoutMs: current().delivery.connectTimeoutSeconds * 1000 });
  // Each domain's days, months and years are its own (its time zone, else the appliance's).
  const stats = await Stats.open(store, {
    zoneOf: (owner) => (owner === '*' ? undefined : servedDomain(current(), owner)?.timezone) ?? current().time.timezone,
  });
  // One syslog line per event of a message's life, Postfix-like (appliance/logsearch/mail-events.ts);
  // quarantined outbound mail also notifies the sending domain's contact (rate-limited).
  let onQuarantined: ((e: MailEvent) => void) | undefined;
  const events = (e: MailEvent) => {
    say(formatMailEvent(e));
    if (e.kind === 'quarantined' && e.log.direction === 'outbound') onQuarantined?.(e);
  };
  let forgetRelease: ((copy: string) => Promise<void>) | undefined;
  const queue = new DeliveryQueue({
    store, spool, log, config: current, client, mx: new MxResolver(dns.resolve),
    onFinished: (record) => {
      stats.finished(record);
      // A released copy that left the queue can no longer be taken back.
      void forgetRelease?.(record.id).catch((err: Error) => say(`mailmoat: forgetting the release note of ${record.id} failed: ${err.message}`));
    },
    events,
  });
  const recovered = await queue.recover();
  if (recovered) say(`mailmoat: resumed ${recovered} queued message(s)`);

  const classifier = await Classifier.open(store, { spamThreshold: current().filtering.spamThreshold, unsureThreshold: current().filtering.unsureThreshold });
  // A fresh appliance starts from the shipped model rather than blank (no-op once trained).
  if (opts.starterModel !== false && await classifier.installStarterModel()) say('mailmoat: installed the starter spam model');
  const quarantine = await Quarantine.open(store, opts.dataDir);
  forgetRelease = (copy) => quarantine.forgetRelease(copy);
  await quarantine.pruneReleases((copy) => queue.has(copy));
  const lists = await ListsStore.open(store);
  // Quota warnings go out like the disk watcher's notices (the queue's notice path).
  const quota = new QuarantineQuota({
    quarantine, config: current, say,
    notify: async (to, subject, text) => {
      for (const address of to) await queue.submitNotice(adminNotice({ hostname: current().hostname, to: address, subject, text, from: current().reports.sender }), [address]);
    },
  });
  const pipeline = createPipeline({
    config, store, quarantine, lists, scorer: classifier, say, quota,
    resolver: dns,
    ...(opts.clamd ? { clamd: opts.clamd } : {}),
  });
  const quarantineActions = createQuarantineActions({
    quarantine, lists, scorer: classifier,
    // Resolves once the copy is durably queued: the quarantine may drop its own copy after that.
    deliver: (req) => queue.submitCopy({ sourcePath: req.rawPath, direction: 'inbound', mailFrom: req.mailFrom,
      recipients: req.recipients.map((address) => ({ address })), headerEdits: req.headerEdits, note: 'released from quarantine' }),
    // Undoing a release: the queue holds the copy while the quarantine takes it back.
    recall: (copy, pick, by, restore) => queue.recall(copy, (_record, r) => pick(r.address), by, restore),
  });
  let consolePort: number | undefined;
  const users = new UserStore(store);
  // The statistics count a message once for each set of domains someone can read (stats/counters.ts),
  // so they follow the accounts and tokens; one reading at a time, so the last change wins.
  let readers = Promise.resolve();
  const followReaders = () => (readers = readers.then(() => readableDomainSets(users)).then((sets) => stats.setReadableSets(sets),
    (err: Error) => say(`mailmoat: reading which domains the accounts and tokens reach failed (statistics may count a message to several of them more than once): ${err.message}`)));
  await followReaders();
  const stopFollowingReaders = UserStore.watch(store, followReaders);
  const reportTotals = (c: Counts): Totals => ({ received: c.received, delivered: c.delivered, quarantined: c.quarantined, rejected: c.rejected, spam: c.spam, virus: c.virus });
  const reports = new ReportService({
    store, config: current, quarantine, actions: quarantineActions, linkKey: await loadLinkKey(opts.dataDir), now: opts.now,
    consolePort: () => consolePort,
    totals: async (domain, since, until) => reportTotals(await stats.range([domain], 'hour', since, until)),
    timeline: async (domain, since, until) =>
      (await stats.timeline([domain], since, until)).map(({ at, unit, counts }) => ({ at, unit, totals: reportTotals(counts) })),
    send: async (raw, to, note) => { await queue.submitNotice(raw, to, note); },
    log: messageLogProvider(log), say, ...(opts.reportFont ? { pdfFont: opts.reportFont } : {}),
    // Saved searches run as their owner; a mailbox's digest follows its account's language.
    user: async (id) => await users.byId(id),
    userLanguage: async (address) => (await users.byName(address))?.language,
  });
  onQuarantined = (e) => void reports.outboundQuarantined(e.log).catch((err: Error) => say(`mailmoat: notice about quarantined outbound mail failed: ${err.message}`));
  const stopReports = startTicker(() => reports.tick(), (err) => say(`mailmoat: reports failed: ${err.message}`));
  const stopQuarantineRetention = startRetention(quarantine, config, (err) => say(`mailmoat: quarantine retention failed: ${err.message}`), undefined, { quota, say });
  const stopLogRetention = startLogRetention(log, () => current().log, say);
  const stopStatsRetention = startStatsRetention(stats, (err) => say(`mailmoat: statistics retention failed: ${err.message}`));
  const gauges = new GaugeSampler(stats, {
    queue: () => queue.size(), quarantine: () => quarantine.usages('domain'), held: () => quarantine.held(), heldFor: (domains) => quarantine.heldFor(domains), domains: () => current().domains.map((d) => d.name),
  }, opts.now);
  const stopGauges = gauges.start((err) => say(`mailmoat: sampling the queue and quarantine sizes failed: ${err.message}`));
  const greylist = new Greylist(store, opts.now);
  const stopGreylistSweep = startGreylistSweep(greylist, () => current().filtering.greylisting.sweepMinutes, (err) => say(`mailmoat: greylisting sweep failed: ${err.message}`));
  // Alarms for the admin contact, in the console's language, from the notice sender like every notice.
  const mailAdmin = async (alarm: AdminAlarm, detail: string): Promise<void> => {
    const c = current();
    if (!c.postmaster) return;
    const { subject, text } = adminAlarmText(c.console.language, alarm, c.hostname, detail);
    await queue.submitNotice(adminNotice({ hostname: c.hostname, to: c.postmaster, subject, text, from: c.reports.sender }), [c.postmaster]);
  };
  // Scheduled backups to the SFTP server, checked every minute like the reports.
  const remoteBackup = new RemoteBackup({
    store, dataDir: opts.dataDir, settings: () => current().system.remoteBackup, hostname: () => current().hostname,
    timezone: () => current().time.timezone, say, now: opts.now,
    notifyFailure: (detail) => mailAdmin('backupFailed', detail),
  });
  const stopRemoteBackup = startTicker(async () => { await remoteBackup.tick(); }, (err) => say(`mailmoat: scheduled backup failed: ${err.message}`));
  const stopRetention = () => { stopQuarantineRetention(); stopLogRetention(); stopStatsRetention(); stopGauges(); stopFollowingReaders(); stopGreylistSweep(); stopReports(); stopRemoteBackup(); };

  const authLimits = new AuthLimits(() => current().limits.auth, { say, onFailure: () => stats.authFailed() });
  // What SNMP shows (mibs/MAILMOAT-MIB.txt): the persistent totals, as the statistics count them.
  const counters = async (): Promise<MailCounters> => {
    const t = stats.totals();
    return {
      messagesIn: t.received + t.outbound, messagesOut: t.delivered, spam: t.spam, virus: t.virus, quarantined: t.quarantined,
      rejected: t.rejected, queueLength: queue.length, queueOldestAgeSeconds: Math.round(queue.oldestAgeMs() / 1000),
      quarantineBytes: await quarantine.bytes(), authFailures: t.authFailures, tagged: t.tagged,
    };
  };
  const system = await startSystemServices({
    config, dataDir: opts.dataDir, appliance: opts.appliance ?? false, say,
    signatures: () => signatureStatus(opts.signaturesDir ?? SIGNATURES_DIR),
    freshclam: () => freshclamStatus(opts.signaturesDir ?? SIGNATURES_DIR),
    quarantineBytes: () => quarantine.bytes(),
    getCounters: counters,
    notifyAdmin: mailAdmin,
  }).catch(async (err: Error) => {
    // E.g. a data path whose disk cannot be measured: stop what runs already, then report it.
    stopRetention();
    await pipeline.close();
    await queue.stop(0);
    await spool.close();
    await stats.close();
    throw err;
  });

  let tls = await loadTlsIdentity({ dataDir: opts.dataDir, hostname: current().hostname, ...current().tls });
  const limits = new ClientLimits();
  const pruneTimer = setInterval(() => limits.prune(), 60_000).unref();
  const reverseDns = new ReverseDns(dns.resolve);
  // One audit log for the console and the mail path (spam / not-spam reports sent by mail).
  const audit = new AuditLog(store);
  const filter = withFeedbackMail(opts.filter ?? ((input) => pipeline.run(input)), {
    config: current,
    train: (raw, label) => classifier.train(raw, label),
    audit: (r) => audit.record({ actor: r.actor, role: 'user', ip: r.ip, action: 'MAIL report', domains: [r.domain], detail: r.detail }),
  });
  const accept = createAccept({ config: current, spool, filter, queue, log, stats, events });
  const refusalLog = createRcptRefusalLog({ config: current, log, stats, onError: (err) => say(`mailmoat: logging a refused recipient failed: ${err.message}`) });
  const onRcptRefused: typeof refusalLog = (r) => {
    refusalLog(r);
    if (r.reason === 'greylisted' || r.reason === 'dns-list') {
      stats.screened(r.reason === 'greylisted' ? 'greylisted' : 'dnsListRefused', servedDomain(current(), r.address.slice(r.address.lastIndexOf('@') + 1))?.name ?? '');
    }
  };
  const screening = new Screening({ config: current, resolve: dns.resolve, greylist, senderAllowed: (recipient, domain, sender) => pipeline.senderAllowed(recipient, domain, sender) });
  const recipientBlocked = async (direction: MailDirection, address: string, sender: string) =>
    (await pipeline.checkRecipient(direction, address, sender)) === 'blocked';
  const listeners = new Map<ListenerKind, SMTPServer>();

  const startListeners = async (cfg: Config) => {
    for (const kind of ['inbound', 'submission'] as const) {
      const server = createListener({
        kind, config: current, policy: () => policy, tls, limits, authLimits, reverseDns, accept, recipientBlocked, onRcptRefused,
        ...(kind === 'inbound' ? { screening } : {}),
        onOversize: () => stats.refusedOversize([]),
        admission: () => (system.disks.isAboveHardLimit() ? 'Insufficient system storage: the data disk is nearly full, try again later' : null),
      });
      const { address, port } = cfg.listeners[kind];
      server.listen(port, address);
      await Promise.race([once(server.server, 'listening'), once(server, 'error').then(([err]) => {
        throw new Error(`cannot listen for ${kind} SMTP on ${address}:${port}: ${(err as Error).message}`);
      })]);
      server.on('error', (err) => say(`mailmoat: ${kind} listener error: ${err.message}`));
      listeners.set(kind, server);
      say(`mailmoat: ${kind} SMTP listening on ${address}:${(server.server.address() as AddressInfo).port}`);
    }
  };
  const stopListeners = async () => {
    await Promise.all([...listeners.values()].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    listeners.clear();
  };

  config.on('change', (next, previous) => {
    policy = new RecipientPolicy(next, callout);
    dns.setMaxSeconds(next.filtering.dnsCacheMaxSeconds);
    // Socket-level settings are fixed when a listener starts: restart the listeners for those.
    const listenerSettings = (c: Config) => JSON.stringify([c.listeners.inbound, c.listeners.submission, c.tls, c.limits, c.relay.networks, c.hostname]);
    if (listenerSettings(next) !== listenerSettings(previous)) {
      // A new host name needs a certificate naming it (a generated one is made again); on failure
      // the listeners keep the certificate they had.
      const identity = JSON.stringify([next.tls, next.hostname]) === JSON.stringify([previous.tls, previous.hostname]) ? Promise.resolve()
        : loadTlsIdentity({ dataDir: opts.dataDir, hostname: next.hostname, ...next.tls })
          .then((fresh) => { tls = fresh; }, (err: Error) => say(`<3>mailmoat: keeping the old TLS certificate for SMTP: ${err.message}`));
      identity.then(stopListeners).then(() => startListeners(next)).catch((err: Error) => say(`mailmoat: restarting listeners failed: ${err.message}`));
    }
  });

  let consoleServer: (ConsoleServer & { url: string }) | undefined;
  let localApi: LocalApi | undefined;
  try {
    await startListeners(current());
    if (opts.console !== false) {
      consoleServer = await startConsole({ store, config, dataDir: opts.dataDir, log: say, audit, onRestoreStaged: opts.onRestoreStaged, remoteBackup, clamav: opts.clamd ? { clamd: opts.clamd } : undefined, providers: {
        quarantine: quarantineProvider(quarantine, quarantineActions),
        lists: listsProvider(lists),
        training: trainingProvider(classifier),
        quota: quotaProvider(quarantine, quota, current),
        log: messageLogProvider(log),
        stats: statsProvider(stats, log),
        statistics: statisticsProvider(stats),
        queue: queueProvider(queue),
        system: systemProvider({ config: current, disks: system.disks, listening: () => [...listeners.keys()], appliance: opts.appliance ?? false, clamd: opts.clamd }),
        reports,
      } });
      consolePort = Number(new URL(consoleServer.url).port || 443);
    }
    const socketPath = opts.localSocket ?? (opts.appliance ? DEFAULT_SOCKET : undefined);
    if (socketPath) {
      const bound = consoleServer && new URL(consoleServer.url);
      localApi = await startLocalApi({ socketPath, store, dataDir: opts.dataDir, queue, stats, disks: system.disks,
        consoleSettings: () => current().console, signaturesDir: opts.signaturesDir ?? SIGNATURES_DIR, timezone: () => current().time.timezone,
        consoleUrls: () => (bound ? consoleUrls(current().listeners.console.address, Number(bound.port || 443)) : []),
        supportBundle: async () => {
          const av = current().filtering.antivirus;
          const clamd = av.enabled ? opts.clamd ?? av.clamd : undefined;
          return supportBundle({ config: current(), dataDir: opts.dataDir, databaseDir: SIGNATURES_DIR,
            queue: { ...queue.size(), oldestAgeSeconds: Math.round(queue.oldestAgeMs() / 1000) },
            clamdVersion: clamd ? await clamdVersion(clamd) : undefined, remoteBackup: await remoteBackup.status() });
        } });
      say(`mailmoat: local API for the console menu on ${socketPath}`);
    }
  } catch (err) {
    await stopListeners();
    await pipeline.close();
    await queue.stop(0);
    stopRetention();
    await consoleServer?.close();
    await system.stop();
    throw err;
  }

  return {
    store, config, queue, log, spool, get tls() { return tls; }, stats, gauges, counters, authLimits, system, classifier, quarantine, quarantineActions, quota, lists, pipeline, greylist, reports,
    consoleUrl: consoleServer?.url,
    console: consoleServer,
    ports: () => Object.fromEntries([...listeners].map(([k, s]) => [k, (s.server.address() as AddressInfo).port])) as Record<ListenerKind, number>,
    async stop() {
      clearInterval(pruneTimer);
      stopRetention();
      await Promise.all([stopListeners(), consoleServer?.close(), localApi?.close(), system.stop()]);
      await pipeline.close();
      await queue.stop();
      await spool.close();
      await stats.close();
      await store.close();
    },
  };
}
