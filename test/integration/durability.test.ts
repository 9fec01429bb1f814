// Never lose mail: kill the daemon with SIGKILL in the middle of a load, several times, start it
// again each time, and check that every message that got a 250 arrives, and that duplicates stay
// within what the delivery mechanism allows (see the bound below). Also: SIGTERM stops cleanly.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { eventually, message, testConfig, writeConfig } from '../helpers/appliance.ts';
import { startDaemon } from '../helpers/daemon.ts';
import { sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';

/** delivery.concurrency: deliveries in flight at once. */
const DELIVERY_SLOTS = 4;
const KILLS = 3;

const bareConfig = (sinkPort: number) => testConfig({
  domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: sinkPort }] }],
  // Every class accepted, no antivirus: this test is about the mail path's durability.
  filtering: { rules: [], antivirus: { enabled: false }, stampHeaders: false },
  limits: { maxMessagesPerMinutePerClient: 100_000, maxConnectionsPerClient: 100 },
  delivery: { concurrency: DELIVERY_SLOTS },
});

test('SIGKILLs during a load lose no acknowledged message and duplicate at most one per delivery slot per kill', async (t) => {
  const sink = await startSink();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-kill-'));
  t.teardown(async () => { await sink.stop(); await rm(dataDir, { recursive: true, force: true }); });
  const configFile = await writeConfig(dataDir, bareConfig(sink.port));

  const acknowledged = new Set<string>();
  let next = 0;
  for (let round = 1; round <= KILLS; round++) {
    const daemon = await startDaemon(configFile, dataDir);
    let killed = false;
    const worker = async () => {
      while (!killed) {
        const tag = `msg-${next++}`;
        const sent = await sendMail({ port: daemon.inbound, from: 'load@example.net', to: ['bob@example.com'], raw: message({ subject: tag }) });
        if (sent.ok && sent.code === 250) acknowledged.add(tag);
      }
    };
    const workers = Array.from({ length: 12 }, worker);
    // Kill once this round's share was accepted: sessions are open and, with the queue behind
    // the accepting side, every delivery slot is busy.
    while (acknowledged.size < round * 60) await new Promise((r) => setTimeout(r, 10));
    daemon.child.kill('SIGKILL');
    killed = true;
    await daemon.exited;
    await Promise.all(workers);
  }

  const last = await startDaemon(configFile, dataDir);
  t.teardown(() => { last.child.kill('SIGTERM'); });
  const subjects = () => sink.messages.map((m) => /Subject: (msg-\d+)/.exec(m.raw.toString())?.[1]).filter(Boolean) as string[];
  // Finished: every acknowledged message arrived and the queue is empty (a queued message keeps
  // its spool file until its record is removed), so no copy can still be on its way.
  const spoolFiles = async () => (await readdir(path.join(dataDir, 'spool'))).filter((f) => f.endsWith('.eml'));
  await eventually(async () => {
    const arrived = new Set(subjects());
    return [...acknowledged].every((tag) => arrived.has(tag)) && (await spoolFiles()).length === 0;
  }, 120_000).catch(() => undefined);
  const arrived = subjects();
  const missing = [...acknowledged].filter((tag) => !arrived.includes(tag));
  t.deepEqual(missing, [], 'every acknowledged message arrived');
  t.deepEqual(await spoolFiles(), [], 'the queue emptied');
  const counts = new Map<string, number>();
  for (const s of arrived) counts.set(s, (counts.get(s) ?? 0) + 1);
  const extraCopies = [...counts.values()].reduce((n, c) => n + c - 1, 0);
  t.log(`${KILLS} kills: acknowledged ${acknowledged.size}, arrived ${arrived.length}, extra copies ${extraCopies}`);
  // A copy is sent again only when the kill fell between the sink taking it and the synced write
  // of its 250 (appliance/delivery/queue.ts). Each message here has one route, so a delivery slot
  // carries one transaction at a time: at most one extra copy per slot per kill.
  t.true(extraCopies <= KILLS * DELIVERY_SLOTS, `extra copies (${extraCopies}) ≤ ${KILLS} kills × ${DELIVERY_SLOTS} delivery slots`);
});

test('SIGTERM stops the daemon cleanly and the next start reopens the store', async (t) => {
  const sink = await startSink();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-term-'));
  t.teardown(async () => { await sink.stop(); await rm(dataDir, { recursive: true, force: true }); });
  const configFile = await writeConfig(dataDir, bareConfig(sink.port));
  const daemon = await startDaemon(configFile, dataDir);
  t.true((await sendMail({ port: daemon.inbound, from: 'a@example.net', to: ['bob@example.com'], raw: message() })).ok);
  await sink.waitFor(1);
  daemon.child.kill('SIGTERM');
  t.is(await daemon.exited, 0);
  t.regex(daemon.output(), /stopped/);
  const again = await startDaemon(configFile, dataDir);
  again.child.kill('SIGTERM');
  t.is(await again.exited, 0);
});
