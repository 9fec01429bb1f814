// The composition root: opens the store, loads the configuration, recovers the queue, and starts
// the SMTP listeners and delivery; stops them in the reverse order. Everything a service needs is
// passed in here, so each module stays testable on its own.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { SMTPServer } from 'smtp-server';
import { ConfigService } from './config/config-service.ts';
import type { Config } from './config/schema.ts';
import { DeliveryQueue } from './delivery/queue.ts';
import { MxResolver } from './delivery/mx.ts';
import { SmtpClient } from './delivery/smtp-client.ts';
import { MessageLog } from './logsearch/message-log.ts';
import { CalloutVerifier } from './smtp/callout.ts';
import { ClientLimits } from './smtp/client-limits.ts';
import { createListener, type ListenerKind } from './smtp/listener.ts';
import { deliverAll, type MessageFilter } from './smtp/message-filter.ts';
import { RecipientPolicy } from './smtp/recipient-policy.ts';
import { ReverseDns } from './smtp/reverse-dns.ts';
import { loadTlsIdentity, type TlsIdentity } from './smtp/tls.ts';
import { Spool } from './spool/spool.ts';
import { openStore, type Store } from './store/store.ts';

export interface ApplianceOptions {
  dataDir: string;
  /** A YAML/JSON configuration that replaces the stored one (refused whole if invalid). */
  configFile?: string;
  /** Replaces the filtering pipeline (tests of the bare mail path). */
  filter?: MessageFilter;
  /** Where status lines go (default: stdout). */
  say?: (line: string) => void;
}

export interface Appliance {
  store: Store;
  config: ConfigService;
  queue: DeliveryQueue;
  log: MessageLog;
  spool: Spool;
  tls: TlsIdentity;
  /** Bound ports (useful when the configuration asks for port 0). */
  ports(): Record<ListenerKind, number>;
  stop(): Promise<void>;
}

export async function startAppliance(opts: ApplianceOptions): Promise<Appliance> {
  const say = opts.say ?? ((line: string) => console.log(line));
  const store = await openStore(opts.dataDir);
  try {
    const config = await ConfigService.open(store, opts.configFile);
    return await startServices(opts, store, config, say);
  } catch (err) {
    await store.close();
    throw err;
  }
}

async function startServices(opts: ApplianceOptions, store: Store, config: ConfigService, say: (line: string) => void): Promise<Appliance> {
  const current = () => config.current;
  const callout = new CalloutVerifier(store.sublevel('callout'), current().hostname);
  let policy = new RecipientPolicy(current(), callout);
  const spool = await Spool.open(opts.dataDir);
  const log = new MessageLog(store);
  const client = new SmtpClient({ heloName: current().hostname, connectTimeoutMs: current().delivery.connectTimeoutSeconds * 1000 });
  const queue = new DeliveryQueue({
    store, spool, log, config: current, policy: () => policy, client, mx: new MxResolver(current().relay.resolver),
  });
  const recovered = await queue.recover();
  if (recovered) say(`mailmoat: resumed ${recovered} queued message(s)`);

  const tls = await loadTlsIdentity({ dataDir: opts.dataDir, hostname: current().hostname, ...current().tls });
  const limits = new ClientLimits();
  const pruneTimer = setInterval(() => limits.prune(), 60_000).unref();
  const reverseDns = new ReverseDns(current().relay.resolver);
  const filter = opts.filter ?? deliverAll;
  const listeners = new Map<ListenerKind, SMTPServer>();

  const startListeners = async (cfg: Config) => {
    for (const kind of ['inbound', 'submission'] as const) {
      const server = createListener({ kind, config: current, policy: () => policy, tls, spool, queue, log, limits, reverseDns, filter });
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
    // Socket-level settings are fixed when a listener starts: restart the listeners for those.
    const listenerSettings = (c: Config) => JSON.stringify([c.listeners, c.tls, c.limits, c.relay.networks, c.hostname]);
    if (listenerSettings(next) !== listenerSettings(previous)) {
      stopListeners().then(() => startListeners(next)).catch((err: Error) => say(`mailmoat: restarting listeners failed: ${err.message}`));
    }
  });

  try {
    await startListeners(current());
  } catch (err) {
    await stopListeners();
    await queue.stop(0);
    throw err;
  }

  return {
    store, config, queue, log, spool, tls,
    ports: () => Object.fromEntries([...listeners].map(([k, s]) => [k, (s.server.address() as AddressInfo).port])) as Record<ListenerKind, number>,
    async stop() {
      clearInterval(pruneTimer);
      await stopListeners();
      await queue.stop();
      await store.close();
    },
  };
}
