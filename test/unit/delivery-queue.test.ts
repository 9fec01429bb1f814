// The delivery queue's record of a delivery (issue 12 item 7): the remote's 250 is written down
// durably before anything else, so a crash while another route of the same message is still
// talking does not send the delivered copy again, and a record whose recipients were all recorded
// final is finished at start without sending. Real store and spool; the network is a stand-in
// that answers 250 or holds a transaction open (a crash is a queue abandoned mid-attempt). The
// admin's operations on a message (console mail queue) refuse while an attempt is in flight.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { validateConfig } from '../../appliance/config/validate.ts';
import type { Config } from '../../appliance/config/schema.ts';
import { DeliveryQueue, newLog, type QueueDeps } from '../../appliance/delivery/queue.ts';
import type { QueueRecord } from '../../appliance/delivery/queue-record.ts';
import type { Destination, TransactionResult } from '../../appliance/delivery/smtp-client.ts';
import { MessageLog, type MessageLogRecord } from '../../appliance/logsearch/message-log.ts';
import { Spool } from '../../appliance/spool/spool.ts';
import { openStore, type Store, type Sublevel } from '../../appliance/store/store.ts';

const FAST = 2501; // a.test's route: answers 250 at once
const HELD = 2502; // b.test's route: never answers (until the "crash")

function config(): Config {
  const result = validateConfig({
    hostname: 'mx.test',
    domains: [
      { name: 'a.test', routes: [{ host: '127.0.0.1', port: FAST, tls: 'none' }] },
      { name: 'b.test', routes: [{ host: '127.0.0.1', port: HELD, tls: 'none' }] },
    ],
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

interface Sent { port: number; to: string[] }

/** The network: records each transaction; FAST answers 250, HELD never answers. */
function network(): { client: QueueDeps['client']; sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    client: {
      send(dest: Destination, envelope: { to: string[] }): Promise<TransactionResult> {
        sent.push({ port: dest.port, to: envelope.to });
        if (dest.port === HELD) return new Promise(() => {});
        return Promise.resolve({ kind: 'answered', replies: envelope.to.map((address) => ({ address, code: 250, reply: '250 2.0.0 Ok' })) });
      },
      close() {},
    },
  };
}

async function setup(t: { teardown(fn: () => Promise<void>): void }) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-queue-'));
  const store = await openStore(dataDir);
  t.teardown(async () => { await store.close(); await rm(dataDir, { recursive: true, force: true }); });
  const spool = await Spool.open(dataDir);
  const log = new MessageLog(store);
  const cfg = config();
  const queue = (client: QueueDeps['client'], deps: Partial<QueueDeps> = {}) => new DeliveryQueue({
    store, spool, log, config: () => cfg, client, mx: { lookup: async () => ({ kind: 'tempfail', reason: 'not used' }) }, ...deps,
  });
  return { store, spool, log, queue };
}

async function newRecord(spool: Spool, recipients: string[]): Promise<QueueRecord> {
  const { id, file, size } = await spool.writeMessage(Buffer.from('From: a@sender.test\r\nSubject: once\r\n\r\nbody\r\n'));
  const now = Date.now();
  return {
    id, file, size, direction: 'inbound', receivedAt: now, expiresAt: now + 3_600_000, mailFrom: 'a@sender.test',
    recipients: recipients.map((address) => ({ address, original: address, domain: address.split('@')[1], status: 'pending', attempts: 0, nextAttemptAt: now })),
  };
}

/** The store, with a hook told after each write of a queue record has resolved. */
function watchQueueWrites(store: Store, onPut: (record: QueueRecord) => void): Store {
  return {
    ...store,
    sublevel<V>(name: Parameters<Store['sublevel']>[0]): Sublevel<V> {
      const sub = store.sublevel<V>(name);
      if (name !== 'queue') return sub;
      return new Proxy(sub, {
        get(target, prop) {
          if (prop === 'put') {
            return async (key: string, value: V, options: { sync?: boolean } = {}) => {
              await target.put(key, value, options);
              onPut(value as QueueRecord);
            };
          }
          const v: unknown = Reflect.get(target, prop, target);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
    },
  };
}

test('a delivery is recorded while the other route still talks, and a restart does not send it again', async (t) => {
  const { store, spool, queue } = await setup(t);
  const first = network();
  let recorded!: (r: QueueRecord) => void;
  const firstWrite = new Promise<QueueRecord>((resolve) => { recorded = resolve; });
  const q1 = queue(first.client, { store: watchQueueWrites(store, (r) => recorded(structuredClone(r))) });
  const record = await newRecord(spool, ['ann@a.test', 'ben@b.test']);
  await q1.accept(record, newLog(record));

  // The write after a.test's 250 comes while b.test's transaction is still open.
  const written = await firstWrite;
  t.deepEqual(written.recipients.map((r) => [r.address, r.status]), [['ann@a.test', 'delivered'], ['ben@b.test', 'pending']]);
  t.deepEqual(first.sent.map((s) => s.port).sort(), [FAST, HELD]);

  // "Crash" here: the first queue is abandoned mid-attempt; a new one starts from the store.
  const second = network();
  second.client.send = (dest, envelope) => {
    second.sent.push({ port: dest.port, to: envelope.to });
    return Promise.resolve({ kind: 'answered', replies: envelope.to.map((address) => ({ address, code: 250, reply: '250 ok' })) });
  };
  let finished!: (log: MessageLogRecord) => void;
  const done = new Promise<MessageLogRecord>((resolve) => { finished = resolve; });
  const q2 = queue(second.client, { onFinished: finished });
  t.is(await q2.recover(), 1);
  const log = await done;
  t.deepEqual(second.sent, [{ port: HELD, to: ['ben@b.test'] }], 'only the recipient not yet recorded is sent again');
  t.is(log.status, 'delivered');
  await q2.stop(0);
});

test('a record whose recipients were all recorded final is finished at start without sending', async (t) => {
  const { store, spool, log, queue } = await setup(t);
  const record = await newRecord(spool, ['ann@a.test']);
  // As a crash leaves it: the log record from the accept, the delivery written down, the record
  // and its file not yet removed.
  await store.batch(log.writeOps(newLog(record)), { sync: true });
  record.recipients[0].status = 'delivered';
  record.recipients[0].lastReply = '250 2.0.0 Ok';
  await store.sublevel<QueueRecord>('queue').put(record.id, record, { sync: true });

  const net = network();
  const finishedLogs: MessageLogRecord[] = [];
  const q = queue(net.client, { onFinished: (l) => finishedLogs.push(l) });
  t.is(await q.recover(), 0, 'nothing left to deliver');
  t.deepEqual(net.sent, []);
  t.is(await store.sublevel<QueueRecord>('queue').get(record.id), undefined);
  t.deepEqual(await spool.list(), []);
  const logged = await log.get(record.id);
  t.is(logged?.status, 'delivered');
  t.truthy(logged?.finishedAt);
  t.regex(logged!.attempts.at(-1)!.reply, /recorded as delivered before a restart: 250 2\.0\.0 Ok/);
  t.is(finishedLogs.length, 1, 'counted once, at its finish');
  await q.stop(0);
});

test('the admin\'s operations wait for no attempt: with one in flight they say so and change nothing', async (t) => {
  const { spool, log, queue } = await setup(t);
  const net = network();
  let started!: () => void;
  const inFlight = new Promise<void>((resolve) => { started = resolve; });
  const q = queue({ ...net.client, send: (dest, envelope, body) => { started(); return net.client.send(dest, envelope, body); } });
  const record = await newRecord(spool, ['ben@b.test']);
  await q.accept(record, newLog(record));
  await inFlight; // b.test's route holds the transaction open
  const all = () => true;
  t.like(q.list(all)[0], { running: true });
  t.deepEqual(await q.remove(record.id, all, 'root'), { kind: 'busy' });
  t.deepEqual(await q.bounceNow(record.id, all, 'root'), { kind: 'busy' });
  t.deepEqual(await q.retryNow(record.id, all), { kind: 'busy' });
  t.deepEqual(await q.remove(record.id, () => false, 'root'), { kind: 'not-found' }, 'nothing the pick allows');
  t.deepEqual(await q.remove('no-such-id', all, 'root'), { kind: 'not-found' });
  t.is((await log.get(record.id))?.status, 'queued');
  t.is(q.length, 1);
  await q.stop(0);
});
