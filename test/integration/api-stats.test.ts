// The statistics API over a running appliance: mail sent over real SMTP (accepted, refused at RCPT
// for an unknown user and for relaying, refused with 552 at MAIL FROM and at the end of DATA) is
// counted per domain and box-wide and read back by period, in each domain's time zone; the
// appliance admin reads anything, a domain admin only their domains (another's is a 403), a
// mailbox user nothing; unknown parameters, a step that does not suit the period and impossible
// dates are 400s; the CSV holds the same numbers.
import test from 'ava';
import { deliverAll } from '../../appliance/accept/message-filter.ts';
import type { MessageLogRecord } from '../../appliance/logsearch/message-log.ts';
import { isoDate, localTime } from '../../appliance/stats/calendar.ts';
import { eventually, message, startTestAppliance } from '../helpers/appliance.ts';
import { injectClient, PASSWORD } from '../helpers/console-api.ts';
import { rawSession, sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';


test('statistics count what the mail path did, per domain and zone, within each role\'s scope', async (t) => {
  const sink = await startSink();
  const a = await startTestAppliance({
    domains: [
      { name: 'a.example', routes: [{ host: '127.0.0.1', port: sink.port }], recipients: { mode: 'listed', addresses: ['bob', 'carol'] }, timezone: 'Asia/Tokyo' },
      { name: 'b.example', routes: [{ host: '127.0.0.1', port: sink.port }], recipients: { mode: 'listed', addresses: ['dave'] }, timezone: 'America/New_York' },
    ],
    time: { timezone: 'Europe/London' },
    limits: { maxMessageBytes: 20_000 },
    filtering: { antivirus: { enabled: false } },
  }, { console: true, filter: deliverAll });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  const server = a.app.console!;
  await server.context.setup.complete('test');
  await server.context.users.create({ username: 'root', role: 'admin', password: PASSWORD, language: 'en' });
  await server.context.users.create({ username: 'alice', role: 'domain-admin', domains: ['a.example'], password: PASSWORD, language: 'en' });
  await server.context.users.create({ username: 'bdmin', role: 'domain-admin', domains: ['b.example'], password: PASSWORD, language: 'en' });
  await server.context.users.create({ username: 'carol@a.example', role: 'user', password: PASSWORD, language: 'en' });

  for (const to of [['bob@a.example'], ['bob@a.example'], ['dave@b.example'], ['nobody@a.example', 'carol@a.example'], ['x@elsewhere.test', 'dave@b.example']]) {
    const sent = await sendMail({ port: a.inbound, from: 's@sender.test', to, raw: message() });
    t.true(sent.ok, sent.response);
  }
  const big = message({ body: ('y'.repeat(76) + '\r\n').repeat(400) });
  t.regex((await rawSession(a.inbound, ['EHLO client.test', `MAIL FROM:<a@sender.test> SIZE=${big.length}`, 'QUIT']))[2], /^552 /);
  t.is((await sendMail({ port: a.inbound, from: 's@sender.test', to: ['dave@b.example'], raw: big })).code, 552);
  await sink.waitFor(5);
  await eventually(() => (a.app.queue.length === 0 ? true : undefined));

  const { login, get } = injectClient(server);
  const ok = async (cookie: string, url: string) => {
    const res = await get(cookie, url);
    t.is(res.status, 200, `${url}: ${res.body}`);
    return res.json();
  };
  const root = await login('root');
  const alice = await login('alice');
  const bdmin = await login('bdmin');
  const carol = await login('carol@a.example');

  // The last 24 hours, box-wide: 5 messages, 2 RCPT refusals, 2 size refusals (one per stage).
  const all = await ok(root, '/api/stats?period=24h');
  t.is(all.domains, 'all');
  t.is(all.zone, 'Europe/London');
  t.is(all.points.length, 24);
  t.like(all.totals, { received: 5, delivered: 5, refusedRcpt: 2, oversize: 2, rejected: 0, outbound: 0 });
  t.true(all.totals.receivedBytes > 5 * 100);
  t.is(all.points.reduce((n: number, p: { counts: { received: number } }) => n + p.counts.received, 0), 5);

  // The day, week, month and year of the messages, in each domain's zone (summed over the local
  // dates the messages fell on, should the test run across a midnight there).
  const records: MessageLogRecord[] = [];
  for await (const r of a.app.log.newest()) records.push(r);
  const datesIn = (zone: string) => [...new Set(records.flatMap((r) => [r.receivedAt, r.finishedAt ?? r.receivedAt]).map((at) => isoDate(localTime(at, zone))))];
  const totalOver = async (cookie: string, query: string, zone: string) => {
    const sum: Record<string, number> = {};
    for (const date of datesIn(zone)) {
      const s = await ok(cookie, `/api/stats?${query}&date=${date}`);
      t.is(s.zone, zone);
      for (const [k, v] of Object.entries(s.totals as Record<string, number>)) sum[k] = (sum[k] ?? 0) + v;
    }
    return sum;
  };
  t.like(await totalOver(root, 'period=day&domain=a.example', 'Asia/Tokyo'), { received: 3, delivered: 3, refusedRcpt: 1, oversize: 0 });
  t.like(await totalOver(root, 'period=day&domain=b.example', 'America/New_York'), { received: 2, delivered: 2, refusedRcpt: 0, oversize: 1 });
  const day = await ok(root, `/api/stats?period=day&domain=a.example&date=${datesIn('Asia/Tokyo')[0]}`);
  t.is(day.points.length, 24);
  t.is(day.step, 'hour');
  t.is(new Date(day.start).getUTCHours(), 15, 'a Tokyo day starts at 15:00 UTC');
  const byDay = await ok(root, `/api/stats?period=year&step=day&domain=a.example&date=${datesIn('Asia/Tokyo')[0]}`);
  t.true(byDay.points.length >= 365);

  // A domain admin: their domain, alone or as "all my domains"; never another's.
  t.like((await ok(alice, '/api/stats?period=24h')).totals, { received: 3, refusedRcpt: 1 });
  t.deepEqual((await ok(alice, '/api/stats?period=24h')).domains, ['a.example']);
  t.like(await totalOver(alice, 'period=month&domain=a.example', 'Asia/Tokyo'), { received: 3 });
  const forbidden = await get(alice, '/api/stats?period=24h&domain=b.example');
  t.is(forbidden.status, 403);
  t.is(forbidden.json().error.code, 'forbidden');
  t.is((await get(alice, '/api/stats/export?period=24h&domain=B.example')).status, 403);
  t.like((await ok(bdmin, '/api/stats?period=24h')).totals, { received: 2, oversize: 1 });
  t.is((await get(carol, '/api/stats?period=24h')).status, 403, 'mailbox users have no statistics');

  // Parameters are checked, not ignored.
  const bad = async (url: string, path: string) => {
    const res = await get(root, url);
    t.is(res.status, 400, url);
    t.true(res.json().problems.some((p: { path: string }) => p.path === path), `${url}: ${res.body}`);
  };
  await bad('/api/stats?period=24h&domian=a.example', '/querystring/domian');
  await bad('/api/stats?period=month&step=hour', '/querystring/step');
  await bad('/api/stats?period=day&date=2026-02-30', '/querystring/date');
  t.is((await get(root, '/api/stats?period=decade')).status, 400);

  // The CSV behind the graphs: the same numbers, local times, a byte order mark for Excel.
  const csv = await get(root, '/api/stats/export?period=24h&domain=a.example');
  t.is(csv.status, 200);
  t.regex(String(csv.headers['content-type']), /^text\/csv/);
  t.true(csv.body.startsWith('\uFEFFstart (Asia/Tokyo),received,outbound,delivered'));
  const lines = csv.body.trim().split('\r\n');
  t.is(lines.length, 25);
  t.regex(lines[1], /^\d{4}-\d{2}-\d{2} \d{2}:00,/);
  t.is(lines.slice(1).reduce((n, l) => n + Number(l.split(',')[1]), 0), 3);
});
