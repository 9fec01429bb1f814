// The statistics tables through the API over a real store: top senders, sender domains,
// recipients, client IPs and virus names, and the spam-score histogram, for a day, a month and a
// year, box-wide and per domain in the domain's zone; a domain admin sees only their domains (their
// own recipients, never another domain's senders), and another domain is a 403; a mailbox user
// has none; unknown parameters and kinds are 400s; the CSVs hold the same rows, cells guarded.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { statisticsProvider } from '../../appliance/api/providers/statistics.ts';
import type { MessageLogRecord } from '../../appliance/logsearch/message-log.ts';
import { Stats } from '../../appliance/stats/counters.ts';
import { openStore } from '../../appliance/store/store.ts';
import { makeConsole, TWO_DOMAINS } from '../helpers/console-api.ts';

// 2026-11-20 00:30 in Tokyo is 2026-11-19 15:30 UTC: a.example counts it on the 20th, the box (UTC) on the 19th.
const T0 = Date.UTC(2026, 10, 19, 15, 30);
const ZONES: Record<string, string> = { 'a.example': 'Asia/Tokyo' };

function record(i: number, o: { from: string; to: string[]; ip: string; score?: number; virus?: string; outbound?: boolean; at?: number }): MessageLogRecord {
  return {
    id: `r${i}`, receivedAt: o.at ?? T0 + i * 1000, direction: o.outbound ? 'outbound' : 'inbound', mailFrom: o.from, size: 1000,
    client: { ip: o.ip, hostname: 'h.test', helo: 'h.test', tls: false },
    recipients: o.to.map((address) => ({ address, original: address, status: o.virus ? 'rejected' : 'delivered', mainClass: o.virus ? 'Virus' : 'Not Spam' })),
    findings: { lists: {}, ...(o.score !== undefined ? { spam: { score: o.score, classHint: 'Unknown', reasons: [] } } : {}),
      ...(o.virus ? { antivirus: { status: 'infected', virus: o.virus } } : {}) },
    attempts: [], status: o.virus ? 'rejected' : 'delivered',
  };
}

test('top-N tables and the score histogram per period, within each role\'s scope, with their CSVs', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-stats-tables-'));
  const store = await openStore(dataDir);
  const stats = await Stats.open(store, { zoneOf: (owner) => ZONES[owner] ?? 'UTC', flushMs: 60_000 });
  t.teardown(async () => { await stats.close(); await store.close(); await rm(dataDir, { recursive: true, force: true }); });

  const sent = [
    // a.example: 3 from news@big.test, 2 from ann@big.test, 1 from =cmd@evil.test (a formula-looking sender).
    ...[0, 1, 2].map(() => ({ from: 'news@big.test', to: ['carol@a.example'], ip: '192.0.2.1', score: 3 })),
    ...[0, 1].map(() => ({ from: 'Ann@Big.test', to: ['carol@a.example', 'erin@a.example'], ip: '192.0.2.2', score: 97.5 })),
    { from: '=cmd@evil.test', to: ['erin@a.example'], ip: '198.51.100.9', score: 100, virus: 'Eicar-Test-Signature' },
    // b.example: 4 from bulk@other.test, one also to a.example; the null sender once.
    ...[0, 1, 2].map(() => ({ from: 'bulk@other.test', to: ['dave@b.example'], ip: '203.0.113.5', score: 50 })),
    { from: 'bulk@other.test', to: ['dave@b.example', 'carol@a.example'], ip: '203.0.113.5', score: 52 },
    { from: '', to: ['dave@b.example'], ip: '203.0.113.6' },
    // Outbound from a.example: its recipients are counted for it.
    { from: 'carol@a.example', to: ['partner@partner.test'], ip: '192.0.2.99', score: 0, outbound: true },
    // A month later: in the year, not in the day.
    { from: 'late@big.test', to: ['carol@a.example'], ip: '192.0.2.1', score: 10, at: T0 + 30 * 86_400_000 },
  ];
  sent.forEach((o, i) => stats.answered(record(i, o)));

  const h = await makeConsole(t, { config: TWO_DOMAINS, providers: { statistics: statisticsProvider(stats) } });
  await h.addUser('root', 'admin');
  await h.addUser('alice', 'domain-admin', ['a.example']);
  await h.addUser('bob', 'domain-admin', ['b.example']);
  await h.addUser('carol@a.example', 'user');
  const root = await h.login('root');
  const alice = await h.login('alice');
  const bob = await h.login('bob');
  const carol = await h.login('carol@a.example');
  const ok = async (who: typeof root, url: string) => {
    const res = await h.request('GET', url, { as: who });
    t.is(res.status, 200, `${url}: ${JSON.stringify(res.json)}`);
    return res.json;
  };
  const rows = (answer: { items: { value: string; count: number }[] }) => answer.items.map((i) => [i.value, i.count]);

  // a.example's day (Tokyo): its own traffic only; the sender is counted per message, the
  // address in lower case, the null sender as "<>".
  const aDay = await ok(alice, '/api/stats/top?period=day&date=2026-11-20&domain=a.example&kind=sender');
  t.like(aDay, { domains: ['a.example'], zone: 'Asia/Tokyo', period: 'day', firstDay: '2026-11-20', lastDay: '2026-11-20', kind: 'sender' });
  t.deepEqual(rows(aDay), [['news@big.test', 3], ['ann@big.test', 2], ['=cmd@evil.test', 1], ['bulk@other.test', 1], ['carol@a.example', 1]]);
  t.true(aDay.items.every((i: { error: number }) => i.error === 0), 'a day with few values is exact');
  // "All my domains" for alice is a.example; its recipients are its own (and the outbound one's).
  t.deepEqual(rows(await ok(alice, '/api/stats/top?period=day&date=2026-11-20&kind=recipient')),
    [['carol@a.example', 6], ['erin@a.example', 3], ['partner@partner.test', 1]]);
  t.deepEqual(rows(await ok(alice, '/api/stats/top?period=day&date=2026-11-20&kind=virus')), [['Eicar-Test-Signature', 1]]);
  t.deepEqual(rows(await ok(alice, '/api/stats/top?period=day&date=2026-11-20&kind=clientIp&limit=2')), [['192.0.2.1', 3], ['192.0.2.2', 2]]);
  t.deepEqual(rows(await ok(alice, '/api/stats/top?period=year&date=2026-11-20&kind=senderDomain')),
    [['big.test', 6], ['a.example', 1], ['evil.test', 1], ['other.test', 1]], 'the year holds the later message too');

  // b.example (UTC), and the box (UTC): every message, every recipient.
  t.deepEqual(rows(await ok(bob, '/api/stats/top?period=day&date=2026-11-19&kind=sender')), [['bulk@other.test', 4], ['<>', 1]]);
  t.deepEqual(rows(await ok(bob, '/api/stats/top?period=day&date=2026-11-19&kind=recipient')), [['dave@b.example', 5]]);
  const box = await ok(root, '/api/stats/top?period=month&date=2026-11-19&kind=recipient');
  t.like(box, { domains: 'all', zone: 'UTC', firstDay: '2026-11-01', lastDay: '2026-11-30' });
  t.deepEqual(rows(box), [['carol@a.example', 6], ['dave@b.example', 5], ['erin@a.example', 3], ['partner@partner.test', 1]]);

  // Scope: another domain's tables are forbidden; mailbox users have none.
  t.is((await h.request('GET', '/api/stats/top?period=day&domain=b.example&kind=sender', { as: alice })).status, 403);
  t.is((await h.request('GET', '/api/stats/scores?period=day&domain=B.example', { as: alice })).status, 403);
  t.is((await h.request('GET', '/api/stats/top?period=day&kind=sender', { as: carol })).status, 403);
  t.is((await h.request('GET', '/api/stats/top/export?period=day&domain=a.example&kind=sender', { as: bob })).status, 403);

  // The histogram: bins of 5 points, 100 in the last; unscored messages are not in it.
  const scores = await ok(alice, '/api/stats/scores?period=day&date=2026-11-20');
  t.like(scores, { domains: ['a.example'], binWidth: 5, firstDay: '2026-11-20' });
  const expectA = new Array(20).fill(0);
  expectA[0] = 4; expectA[10] = 1; expectA[19] = 3; // 3×3 and 0 (outbound); 52; 97.5×2 and 100
  t.deepEqual(scores.bins, expectA);
  const boxScores = await ok(root, '/api/stats/scores?period=year&date=2026-11-19');
  t.is(boxScores.bins.reduce((a: number, b: number) => a + b, 0), sent.length - 1, 'every scored message once, box-wide');
  t.is(boxScores.bins[2], 1, 'the later message (10) is in the year');

  // Parameters are checked.
  for (const [url, problemPath] of [
    ['/api/stats/top?period=day&kind=sender&sort=asc', '/querystring/sort'],
    ['/api/stats/top?period=day&kind=subject', '/kind'],
    ['/api/stats/top?period=day&kind=sender&limit=1000', '/limit'],
    ['/api/stats/scores?period=day&step=hour', '/querystring/step'],
    ['/api/stats/scores?period=day&date=2026-02-30', '/querystring/date'],
  ] as const) {
    const res = await h.request('GET', url, { as: root });
    t.is(res.status, 400, url);
    t.true(JSON.stringify(res.json).includes(problemPath), `${url}: ${JSON.stringify(res.json)}`);
  }

  // The CSVs: BOM, header, the same rows, a formula-looking cell guarded.
  const csv = await h.request('GET', '/api/stats/top/export?period=day&date=2026-11-20&domain=a.example&kind=sender', { as: alice });
  t.is(csv.status, 200);
  t.regex(String(csv.headers['content-type']), /^text\/csv/);
  t.regex(String(csv.headers['content-disposition']), /mailmoat-stats-a\.example-day-2026-11-20-top-sender\.csv/);
  t.deepEqual(String(csv.json).split('\r\n'), ['\uFEFFsender,count,error', 'news@big.test,3,0', 'ann@big.test,2,0', "'=cmd@evil.test,1,0", 'bulk@other.test,1,0', 'carol@a.example,1,0', '']);
  const scoresCsv = String((await h.request('GET', '/api/stats/scores/export?period=day&date=2026-11-20', { as: alice })).json).split('\r\n');
  t.is(scoresCsv[0], '\uFEFFscore from,score below,messages');
  t.is(scoresCsv[1], '0,5,4');
  t.is(scoresCsv[20], '95,100,3');
  t.is(scoresCsv.length, 22);
});
