// Queue and quarantine size over time: a running appliance holds real mail (deferred in the queue
// for a domain whose server refuses connections, quarantined by an auto-quarantine list entry);
// the sampler is driven by a controllable clock (no waiting) and its samples come back through
// /api/stats as each bucket's average and peak — by UTC hour for a day, by local day for a month —
// box-wide with the queue, and for a domain admin only their domain's quarantine.
import { createServer } from 'node:net';
import test from 'ava';
import { startTestAppliance, message } from '../helpers/appliance.ts';
import { injectClient, PASSWORD } from '../helpers/console-api.ts';
import { startDnsServer } from '../helpers/dns-server.ts';
import { sendMail } from '../helpers/smtp-client.ts';

const HOUR = 3_600_000;

/** A loopback port nothing listens on (bound, then closed), so deliveries to it are deferred. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('queue and quarantine sizes are sampled into the statistics and read back per bucket and scope', async (t) => {
  const dns = await startDnsServer({});
  const port = await closedPort();
  // The sampler takes its first sample as the appliance starts: at 02:55, nothing held.
  let clock = Date.UTC(2026, 10, 20, 2, 55);
  const a = await startTestAppliance({
    domains: [
      { name: 'a.example', routes: [{ host: '127.0.0.1', port }], timezone: 'Asia/Tokyo' },
      { name: 'b.example', routes: [{ host: '127.0.0.1', port }] },
    ],
    time: { timezone: 'UTC' },
    filtering: { antivirus: { enabled: false }, quarantineResponse: 'accept' },
  }, { console: true, resolver: dns.resolver, now: () => clock });
  t.teardown(async () => { await a.cleanup(); await dns.close(); });
  const server = a.app.console!;
  await server.context.setup.complete('test');
  await server.context.users.create({ username: 'root', role: 'admin', password: PASSWORD, language: 'en' });
  await server.context.users.create({ username: 'alice', role: 'domain-admin', domains: ['a.example'], password: PASSWORD, language: 'en' });
  const { login, get: reply } = injectClient(server);
  const get = async (cookie: string, url: string) => {
    const res = await reply(cookie, url);
    t.is(res.status, 200, `${url}: ${res.body}`);
    return res.json();
  };

  await a.app.lists.add({ direction: 'inbound', kind: 'condition-quarantine', scope: 'domain', owner: 'a.example', field: 'subject', mode: 'partial', value: 'invoice' });
  const send = async (to: string, subject: string) => {
    const sent = await sendMail({ port: a.inbound, from: 'someone@sender.test', to: [to], raw: message({ from: 'someone@sender.test', to, subject }) });
    t.true(sent.ok, sent.response);
  };
  await send('carol@a.example', 'invoice 1');
  await send('carol@a.example', 'invoice 2');
  await send('dave@b.example', 'hello');
  await send('dave@b.example', 'hello again');
  const held = a.app.quarantine.usage('domain', 'a.example');
  t.is(held.messages, 2);

  // 03:00, 03:05 and 03:10 UTC with 2, 3 and 4 messages queued; 05:00 with 4.
  clock = Date.UTC(2026, 10, 20, 3, 0);
  t.like(a.app.gauges.sample()['*'], { queue: 2, quarantined: 2, quarantineBytes: held.bytes });
  clock += 5 * 60_000;
  await send('dave@b.example', 'third');
  a.app.gauges.sample();
  clock += 5 * 60_000;
  await send('dave@b.example', 'fourth');
  const third = a.app.gauges.sample();
  t.like(third['*'], { queue: 4 });
  t.deepEqual(third['a.example'], { quarantined: 2, quarantineBytes: held.bytes });
  t.deepEqual(third['b.example'], { quarantined: 0, quarantineBytes: 0 }, 'a served domain holding nothing reads 0');
  clock = Date.UTC(2026, 10, 20, 5, 0);
  a.app.gauges.sample();

  const root = await login('root');
  const day = await get(root, '/api/stats?period=day&date=2026-11-20');
  type Point = { start: string; gauges?: { average: Record<string, number>; peak: Record<string, number> } };
  const at = (s: { points: Point[] }, iso: string) => s.points.find((p) => p.start === iso);
  t.like(at(day, '2026-11-20T03:00:00.000Z')?.gauges, { average: { queue: 3, quarantined: 2, quarantineBytes: held.bytes }, peak: { queue: 4, quarantined: 2 } });
  t.like(at(day, '2026-11-20T05:00:00.000Z')?.gauges, { average: { queue: 4 }, peak: { queue: 4 } });
  t.like(at(day, '2026-11-20T02:00:00.000Z')?.gauges, { average: { queue: 0, quarantined: 0 }, peak: { queue: 0 } }, 'the sample at start');
  t.is(day.points.filter((p: Point) => p.gauges).length, 3, 'hours without samples have none');
  const month = await get(root, '/api/stats?period=month&date=2026-11-20');
  t.like(at(month, '2026-11-20T00:00:00.000Z')?.gauges, { average: { queue: 3 }, peak: { queue: 4 } }, '(0 + 2 + 3 + 4 + 4) / 5 rounds to 3');

  // alice: a.example's day in Tokyo (03:00 UTC is 12:00 there), its quarantine, no queue.
  const alice = await login('alice');
  const aDay = await get(alice, '/api/stats?period=day&date=2026-11-20');
  t.is(aDay.zone, 'Asia/Tokyo');
  const g = at(aDay, '2026-11-20T03:00:00.000Z')?.gauges;
  t.deepEqual(g, { average: { quarantined: 2, quarantineBytes: held.bytes }, peak: { quarantined: 2, quarantineBytes: held.bytes } });

  // The CSV carries the averages and peaks after the counters.
  const csv = await server.app.inject({ method: 'GET', url: '/api/stats/export?period=day&date=2026-11-20', headers: { cookie: root } });
  const lines = csv.body.split('\r\n');
  const header = lines[0].split(',');
  const row = lines.find((l) => l.startsWith('2026-11-20 03:00'))!.split(',');
  t.is(row[header.indexOf('queue (average)')], '3');
  t.is(row[header.indexOf('queue (peak)')], '4');
  t.is(lines.find((l) => l.startsWith('2026-11-20 04:00'))!.split(',')[header.indexOf('queue (average)')], '', 'no sample, no figure');
});
