// Never lose mail: kill the daemon with SIGKILL in the middle of a load, start it again, and check
// that every message that got a 250 arrives (duplicates only where a delivery's own 250 could
// have been lost with the process, and counted). Also: SIGTERM stops cleanly.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { message, testConfig, writeConfig } from '../helpers/appliance.ts';
import { startDaemon } from '../helpers/daemon.ts';
import { sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';

const bareConfig = (sinkPort: number) => testConfig({
  domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: sinkPort }] }],
  // Every class accepted, no antivirus: this test is about the mail path's durability.
  filtering: { rules: [], antivirus: { enabled: false }, stampHeaders: false },
  limits: { maxMessagesPerMinutePerClient: 100_000, maxConnectionsPerClient: 100 },
});

test('SIGKILL during a load loses no acknowledged message', async (t) => {
  const sink = await startSink();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-kill-'));
  t.teardown(async () => { await sink.stop(); await rm(dataDir, { recursive: true, force: true }); });
  const configFile = await writeConfig(dataDir, bareConfig(sink.port));

  const first = await startDaemon(configFile, dataDir);
  const acknowledged = new Set<string>();
  const total = 240;
  let next = 0;
  let killed = false;
  const worker = async () => {
    while (next < total && !killed) {
      const tag = `msg-${next++}`;
      const sent = await sendMail({ port: first.inbound, from: 'load@example.net', to: ['bob@example.com'], raw: message({ subject: tag }) });
      if (sent.ok && sent.code === 250) acknowledged.add(tag);
    }
  };
  const workers = Array.from({ length: 12 }, worker);
  // Kill once a good part of the load was accepted, while sessions and deliveries are in flight.
  while (acknowledged.size < 80) await new Promise((r) => setTimeout(r, 10));
  first.child.kill('SIGKILL');
  killed = true;
  await first.exited;
  await Promise.all(workers);
  const deliveredBeforeRestart = sink.messages.length;

  const second = await startDaemon(configFile, dataDir);
  t.teardown(() => { second.child.kill('SIGTERM'); });
  const subjects = () => sink.messages.map((m) => /Subject: (msg-\d+)/.exec(m.raw.toString())?.[1]).filter(Boolean) as string[];
  const deadline = Date.now() + 60_000;
  while ([...acknowledged].some((tag) => !subjects().includes(tag)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const arrived = subjects();
  const missing = [...acknowledged].filter((tag) => !arrived.includes(tag));
  t.deepEqual(missing, [], 'every acknowledged message arrived');
  const counts = new Map<string, number>();
  for (const s of arrived) counts.set(s, (counts.get(s) ?? 0) + 1);
  const duplicates = [...counts.values()].filter((n) => n > 1).length;
  t.log(`acknowledged ${acknowledged.size}, delivered before the kill ${deliveredBeforeRestart}, after restart ${arrived.length}, duplicates ${duplicates}`);
  // A duplicate can only come from a delivery whose completion was not yet recorded when the
  // process died: at most the deliveries in flight at that moment.
  t.true(duplicates <= 32, `duplicates (${duplicates}) bounded by deliveries in flight`);
  t.regex(second.output(), /resumed \d+ queued message|running/);
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
