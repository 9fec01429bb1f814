// The message log's size cap (log.maxMegabytes): past it, the retention sweep deletes the oldest
// records with their index keys until records and indexes take about 90 % of the cap on disk, says
// so in the daemon's log, and leaves the indexes exactly those of the records kept; under the cap
// nothing happens.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { indexKeys, withDictionary } from '../../appliance/logsearch/log-index.ts';
import { MessageLog, startLogRetention, type MessageLogRecord } from '../../appliance/logsearch/message-log.ts';
import { openStore } from '../../appliance/store/store.ts';

const T0 = Date.UTC(2026, 10, 1);
const COUNT = 6_000;

function record(i: number): MessageLogRecord {
  const at = T0 + i * 60_000;
  return {
    id: `${MessageLog.newId(at)}`, receivedAt: at, server: 'mx.test', direction: 'inbound',
    client: { ip: `192.0.2.${i % 250}`, hostname: `mail${i % 50}.sender.test`, helo: 'x', tls: true },
    mailFrom: `sender${i % 900}@ext${i % 40}.test`, size: 2000 + i, subject: `Report ${i} ご請求書 ${'x'.repeat(i % 7)}`,
    recipients: [{ address: `user${i % 300}@a.example`, original: `user${i % 300}@a.example`, status: 'delivered', mainClass: 'Not Spam' }],
    // Findings of realistic weight, so the store reaches its table files.
    findings: { reasons: Array.from({ length: 12 }, (_, k) => ({ name: `RULE_${k}_${i % 97}`, score: k / 10 })) },
    attempts: [{ at: at + 1000, recipients: [`user${i % 300}@a.example`], host: '192.0.2.10', port: 25, code: 250, reply: `250 ok ${i} qp ${i * 7}` }],
    status: 'delivered', finishedAt: at + 1000,
  };
}

test('past the size cap the oldest records go with their index keys, the sweep says so; under it nothing goes', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-logcap-'));
  const store = await openStore(dataDir);
  t.teardown(async () => { await store.close(); await rm(dataDir, { recursive: true, force: true }); });
  const log = await MessageLog.open(store);
  for (let i = 0; i < COUNT; i += 500) await Promise.all(Array.from({ length: 500 }, (_, k) => log.put(record(i + k))));
  // Everything in table files, as on a box that has run a while.
  await store.compact('log');
  await store.compact('log-index');
  const size = await log.sizeOnDisk();
  t.true(size > 4e6, `the log takes ${size} bytes`);

  t.is(await log.pruneToSize(size * 2), undefined, 'under the cap nothing happens');

  const cap = size / 2;
  // The first sweep runs at once; its line says when it is done.
  const said = await new Promise<string>((resolve) => {
    t.teardown(startLogRetention(log, () => ({ retentionDays: 3650, maxMegabytes: cap / 1e6 }), resolve, 3_600_000));
  });
  t.regex(said, /^mailmoat: the message log took \d+ MB, over its cap of [\d.]+ MB \(log\.maxMegabytes\): removed \d+ record\(s\) received before \S+Z; now \d+ MB$/);
  const kept: MessageLogRecord[] = [];
  for await (const r of log.newest()) kept.push(r);
  kept.reverse();
  const removed = COUNT - kept.length;
  t.true(removed > COUNT * 0.3 && removed < COUNT * 0.8, `removed ${removed} of ${COUNT}`);
  t.deepEqual(kept.map((r) => r.receivedAt), Array.from({ length: kept.length }, (_, k) => record(removed + k).receivedAt), 'the newest are kept, in one run');
  t.true(await log.sizeOnDisk() <= cap, `${await log.sizeOnDisk()} <= ${cap}`);
  t.deepEqual(await log.indexKeysStored(), [...withDictionary(kept.flatMap((r) => [...indexKeys(r)]))].sort(), 'index keys are exactly the kept records\'');
});
