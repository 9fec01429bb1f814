// Quarantine digests, the domain report, notices and action links on a real appliance: a real
// store with held mail in two domains (Tokyo, Japanese; Berlin, English), the reports' clock
// moved by the test, delivery over SMTP to a loopback sink, the console's link pages through
// fastify's inject().
import test, { type ExecutionContext } from 'ava';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { NewQuarantineRecord } from '../../appliance/quarantine/quarantine-store.ts';
import { eventually, startTestAppliance, type TestAppliance } from '../helpers/appliance.ts';
import { startSink, type Sink } from '../helpers/smtp-sink.ts';

const PASSWORD = 'correct horse battery';

function config(sink: Sink, overrides: { de?: Record<string, unknown>; jp?: Record<string, unknown> } = {}) {
  return {
    filtering: { antivirus: { enabled: false } },
    postmaster: 'postmaster@example.jp',
    domains: [
      {
        name: 'example.jp', timezone: 'Asia/Tokyo', routes: [{ host: '127.0.0.1', port: sink.port }],
        reports: { digest: { enabled: true, time: '09:00', language: 'ja' }, ...overrides.jp },
      },
      {
        name: 'example.de', timezone: 'Europe/Berlin', routes: [{ host: '127.0.0.1', port: sink.port }],
        reports: {
          digest: { enabled: true, time: '09:00', language: 'en' }, actions: ['release', 'block-delete', 'delete'],
          domain: { enabled: true, recipients: ['admin@example.de'], time: '09:00', language: 'en' }, ...overrides.de,
        },
      },
    ],
    policy: { domains: { 'example.jp': { contact: 'it@example.jp' } } },
  };
}

class Clock {
  ms: number;
  constructor(iso: string) { this.ms = Date.parse(iso); }
  set(iso: string) { this.ms = Date.parse(iso); }
  now = () => this.ms;
}

let n = 0;
/** Puts a message into the real quarantine, held for `to`, at the clock's time. */
async function hold(a: TestAppliance, at: number, o: { to: string[]; subject: string; from?: string; score?: number }): Promise<string> {
  const id = `H${++n}x${at.toString(36)}`;
  const dir = join(a.dataDir, 'test-spool');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${id}.eml`);
  const from = o.from ?? 'promo@shop.test';
  await writeFile(file, `From: ${from}\r\nTo: ${o.to.join(', ')}\r\nSubject: =?UTF-8?B?${Buffer.from(o.subject).toString('base64')}?=\r\nMessage-ID: <${id}@shop.test>\r\n\r\nBuy now\r\n`);
  const input: NewQuarantineRecord = {
    queueId: id, receivedAt: at, direction: 'inbound', mailFrom: from, fromHeader: from, subject: o.subject, messageId: `<${id}@shop.test>`,
    size: 100, mainClass: 'Spam', score: o.score ?? 97, reasons: [], clientIp: '192.0.2.1',
    recipients: o.to.map((address) => ({ address, domain: address.split('@')[1], mainClass: 'Spam' as const, headerEdits: { prepend: [] }, why: ['score'] })),
  };
  return (await a.app.quarantine.put(input, file, at)).id;
}

/** Mails the reports sent so far, by what the message log says each was. */
async function reportsSent(a: TestAppliance): Promise<string[]> {
  const page = await a.app.log.search({ conditions: [], match: 'all', mode: 'exact', visible: () => true, limit: 500, scanCap: 100_000 });
  return page.records.filter((r) => /digest|report|notice/.test(r.reply ?? '')).map((r) => `${r.reply} → ${r.recipients.map((x) => x.address).join(',')}`).sort();
}

async function start(t: ExecutionContext, clock: Clock, overrides?: Parameters<typeof config>[1]) {
  const sink = await startSink();
  const a = await startTestAppliance(config(sink, overrides), { console: true, now: clock.now });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  await a.app.console!.context.setup.complete('test');
  return { a, sink };
}

test('digests go out at 09:00 in each domain\'s zone and language, once: not again after a restart, once after downtime', async (t) => {
  const clock = new Clock('2026-11-29T22:00:00Z'); // 07:00 in Tokyo, 23:00 in Berlin
  const sink = await startSink();
  t.teardown(() => sink.stop());
  let a = await startTestAppliance(config(sink), { console: false, now: clock.now });
  const dataDir = a.dataDir;
  t.teardown(() => a.cleanup());
  await a.app.reports.tick(); // enabling starts the first period
  t.deepEqual(await reportsSent(a), []);

  const at = clock.ms + 600_000;
  await hold(a, at, { to: ['tanaka@example.jp'], subject: '【重要】請求書のお知らせ', score: 98 });
  await hold(a, at + 1000, { to: ['tanaka@example.jp', 'suzuki@example.jp'], subject: '当選のお知らせ' });
  await hold(a, at + 2000, { to: ['anna@example.de'], subject: 'Your parcel is waiting' });

  clock.set('2026-11-29T23:59:59Z'); // 08:59:59 in Tokyo
  await a.app.reports.tick();
  t.deepEqual(await reportsSent(a), []);

  clock.set('2026-11-30T00:00:00Z'); // 09:00 in Tokyo, 01:00 in Berlin
  await a.app.reports.tick();
  t.deepEqual(await reportsSent(a), ['quarantine digest → suzuki@example.jp', 'quarantine digest → tanaka@example.jp']);

  // A restart between two runs sends nothing again.
  await a.app.stop();
  clock.set('2026-11-30T00:30:00Z');
  a = await startTestAppliance(config(sink), { console: false, now: clock.now, dataDir });
  await a.app.reports.tick();
  t.is((await reportsSent(a)).length, 2);

  clock.set('2026-11-30T08:00:00Z'); // 09:00 in Berlin (CET)
  await a.app.reports.tick();
  t.deepEqual(await reportsSent(a), [
    'domain protection report → admin@example.de', 'quarantine digest → anna@example.de',
    'quarantine digest → suzuki@example.jp', 'quarantine digest → tanaka@example.jp',
  ]);

  const mails = await Promise.all((await sink.waitFor(4)).map(async (m) => ({ to: m.to, parsed: await simpleParser(m.raw) })));
  const mailTo = (address: string) => mails.find((m) => m.to.includes(address))!.parsed;
  const tanaka = mailTo('tanaka@example.jp');
  t.is(tanaka.subject, '隔離レポート tanaka@example.jp: 2 件を保留中');
  const html = String(tanaka.html);
  t.true(html.includes('【重要】請求書のお知らせ') && html.includes('当選のお知らせ'));
  t.is(html.match(/>解放</g)?.length, 2);
  t.true(html.includes('自分の隔離ボックスを開く'));
  t.regex(String(tanaka.text), /【重要】請求書のお知らせ/);
  t.regex(JSON.stringify(tanaka.headers.get('list')), /\/api\/link\?t=/);
  t.false(mailTo('suzuki@example.jp').html && String(mailTo('suzuki@example.jp').html).includes('請求書'), 'a mailbox sees only its own mail');
  const anna = mailTo('anna@example.de');
  t.is(anna.subject, 'Quarantine report for anna@example.de: 1 message(s) held');
  t.regex(String(anna.html), /Your parcel is waiting[\s\S]*>Block sender and delete</);
  const report = mailTo('admin@example.de');
  t.is(report.subject, 'Protection report for example.de: 1 message(s) held');
  t.regex(String(report.html), /Totals[\s\S]*anna@example\.de/);
  for (const m of mails) {
    // Mail-client safe: no scripts, no images or other remote resources, styles inline.
    t.notRegex(String(m.parsed.html), /<script|<img|<link|<style|src=|url\(/i);
  }

  // Next day, nothing new held: skipped (the default), so nothing is sent to Tokyo.
  clock.set('2026-12-01T00:00:00Z');
  await a.app.reports.tick();
  t.is((await reportsSent(a)).length, 4);

  // Down from 1 to 4 December: on return, one digest (not one per missed day) with what is new.
  await hold(a, Date.parse('2026-12-02T05:00:00Z'), { to: ['tanaka@example.jp'], subject: '再送: 請求書' });
  clock.set('2026-12-04T03:00:00Z');
  await a.app.reports.tick();
  await a.app.reports.tick();
  const sent = await reportsSent(a);
  t.is(sent.filter((s) => s === 'quarantine digest → tanaka@example.jp').length, 2);
  t.is(sent.length, 6, sent.join('\n')); // and one more domain report for Berlin's 3 December
  const last = await simpleParser((await sink.waitFor(6)).filter((m) => m.to.includes('tanaka@example.jp'))[1].raw);
  t.is(last.subject, '隔離レポート tanaka@example.jp: 1 件を保留中');
  t.true(String(last.html).includes('再送: 請求書'));
});

test('the scout variant: a welcome mail before the first digest, digests up to three times a day, and its link stops them', async (t) => {
  const clock = new Clock('2026-11-29T23:00:00Z'); // 08:00 in Tokyo
  const { a, sink } = await start(t, clock, { jp: { digest: { enabled: true, time: '09:00', extraTimes: ['13:00', '17:00'], welcome: true, language: 'ja' } } });
  const jpDigests = async () => (await reportsSent(a)).filter((s) => s.includes('example.jp'));
  await a.app.reports.tick();
  await hold(a, clock.ms + 60_000, { to: ['tanaka@example.jp'], subject: '一通目' });
  clock.set('2026-11-30T00:00:00Z'); // 09:00
  await a.app.reports.tick();
  t.deepEqual(await jpDigests(), ['quarantine digest welcome → tanaka@example.jp', 'quarantine digest → tanaka@example.jp']);
  await hold(a, clock.ms + 60_000, { to: ['tanaka@example.jp'], subject: '二通目' });
  clock.set('2026-11-30T04:00:00Z'); // 13:00: a digest with only what is new, no second welcome
  await a.app.reports.tick();
  t.is((await jpDigests()).length, 3);
  const mails = await sink.waitFor(3);
  const parsed = await Promise.all(mails.map((m) => simpleParser(m.raw)));
  const welcome = parsed.find((p) => p.subject === 'tanaka@example.jp の隔離レポートについて')!;
  t.regex(String(welcome.html), /09:00, 13:00, 17:00（Asia\/Tokyo）/);
  const second = parsed.find((p) => String(p.html).includes('二通目'))!;
  t.false(String(second.html).includes('一通目'));

  const stop = [...String(welcome.html).matchAll(/href="([^"]+)"/g)].map((m) => path(m[1].replaceAll('&amp;', '&')));
  t.is(claimsOf(stop[0]).a, 'unsubscribe');
  t.is((await a.app.console!.app.inject({ method: 'POST', url: stop[0] })).statusCode, 200);
  await hold(a, clock.ms + 60_000, { to: ['tanaka@example.jp'], subject: '三通目' });
  clock.set('2026-11-30T08:00:00Z'); // 17:00
  await a.app.reports.tick();
  t.is((await jpDigests()).length, 3);
  t.is(claimsOf(stop[1]).a, 'subscribe');
  t.is((await a.app.console!.app.inject({ method: 'POST', url: stop[1] })).statusCode, 200);
  await hold(a, clock.ms + 60_000, { to: ['tanaka@example.jp'], subject: '四通目' });
  clock.set('2026-12-01T00:00:00Z');
  await a.app.reports.tick();
  t.deepEqual((await jpDigests()).filter((s) => s.includes('welcome')).length, 1, 'welcomed once');
  t.is((await jpDigests()).length, 4);
});

test('the retention-horizon variant lists everything still held from the last N days, also what an earlier digest listed', async (t) => {
  const clock = new Clock('2026-11-29T23:00:00Z');
  const { a, sink } = await start(t, clock, { jp: { digest: { enabled: true, time: '09:00', language: 'en', horizonDays: 3 } } });
  await a.app.reports.tick();
  await hold(a, Date.parse('2026-11-25T00:00:00Z'), { to: ['tanaka@example.jp'], subject: 'older than three days' });
  await hold(a, Date.parse('2026-11-28T06:00:00Z'), { to: ['tanaka@example.jp'], subject: 'two days old' });
  await hold(a, clock.ms + 60_000, { to: ['tanaka@example.jp'], subject: 'new today' });
  clock.set('2026-11-30T00:00:00Z');
  await a.app.reports.tick();
  clock.set('2026-12-01T00:00:00Z');
  await a.app.reports.tick();
  // The two digests to the mailbox; example.de's domain report (its 09:00 passed too) may come first.
  const digests = async () => {
    for (let n = 1; ; n++) {
      const mine = (await sink.waitFor(n)).filter((m) => m.to.includes('tanaka@example.jp'));
      if (mine.length >= 2) return mine.slice(0, 2);
    }
  };
  const [first, second] = await Promise.all((await digests()).map((m) => simpleParser(m.raw)));
  for (const mail of [first, second]) {
    t.regex(String(mail.html), /from the last 3 day\(s\) are still held/);
    t.true(String(mail.html).includes('two days old') && String(mail.html).includes('new today'));
    t.false(String(mail.html).includes('older than three days'));
  }
});

const tokenOf = (url: string) => new URL(url, 'https://x/').searchParams.get('t')!;
/** The link's path and query, as a browser requests it. */
const path = (url: string) => { const u = new URL(url); return u.pathname + u.search; };
const claimsOf = (url: string) => JSON.parse(Buffer.from(tokenOf(url).split('.')[0], 'base64url').toString()) as { m: string; a: string; r: string };

test('each action link works once, only for its message and recipient; GET changes nothing; expired or tampered links fail; every use is audited', async (t) => {
  const clock = new Clock('2026-11-30T00:00:00Z');
  const { a, sink } = await start(t, clock);
  const server = a.app.console!;
  const inject = (method: 'GET' | 'POST', url: string, headers: Record<string, string> = {}) => server.app.inject({ method, url, headers });
  const both = await hold(a, clock.ms - 60_000, { to: ['tanaka@example.jp', 'suzuki@example.jp'], subject: '当選のお知らせ' });
  const only = await hold(a, clock.ms - 30_000, { to: ['tanaka@example.jp'], subject: '請求書' });

  const digest = await a.app.reports.digest('tanaka@example.jp', 0, clock.ms);
  const links = [...digest.html.matchAll(/href="([^"]+)"/g)].map((m) => m[1].replaceAll('&amp;', '&'));
  t.true(links.every((l) => l.startsWith(`https://mx.mailmoat.test:${new URL(a.app.consoleUrl!).port}/api/link?t=`)), links.join('\n'));
  const find = (message: string, action: string) => path(links.find((l) => claimsOf(l).m === message && claimsOf(l).a === action)!);
  const held = async (id: string) => (await a.app.quarantine.get(id))?.recipients.filter((r) => r.state === 'held').map((r) => r.address).sort();

  // GET: a confirmation page, nothing done (a scanner following the link is harmless).
  const release = find(both, 'release');
  for (let i = 0; i < 2; i++) {
    const page = await inject('GET', release);
    t.is(page.statusCode, 200);
    t.regex(page.body, /当選のお知らせ[\s\S]*<form method="post"/);
    t.regex(String(page.headers['content-security-policy']), /default-src 'none'/);
  }
  t.deepEqual(await held(both), ['suzuki@example.jp', 'tanaka@example.jp']);

  // POST acts for tanaka's copy only, once.
  const done = await inject('POST', release, { origin: 'https://mx.mailmoat.test', host: 'mx.mailmoat.test', 'content-type': 'application/x-www-form-urlencoded' });
  t.is(done.statusCode, 200, done.body);
  t.regex(done.body, /完了しました/);
  t.deepEqual(await held(both), ['suzuki@example.jp']);
  const [delivered] = await sink.waitFor(1);
  t.deepEqual(delivered.to, ['tanaka@example.jp']);
  const again = await inject('POST', release);
  t.is(again.statusCode, 410);
  t.regex(again.body, /使用済み/);
  // Another link for the same copy finds nothing held any more.
  const gone = await inject('POST', find(both, 'delete'));
  t.is(gone.statusCode, 410);

  // The same token made to name suzuki (or another message) is refused; suzuki's copy stays held.
  const [payload, mac] = tokenOf(find(both, 'delete')).split('.');
  const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), r: 'suzuki@example.jp' })).toString('base64url');
  const tampered = await inject('POST', `/api/link?t=${forged}.${mac}`);
  t.is(tampered.statusCode, 400);
  t.regex(tampered.body, /無効/);
  t.deepEqual(await held(both), ['suzuki@example.jp']);

  // After the link's 14 days, it is refused and the message stays held.
  const deleteOnly = find(only, 'delete');
  clock.ms += 14 * 86_400_000;
  const expired = await inject('POST', deleteOnly);
  t.is(expired.statusCode, 410);
  t.regex(expired.body, /有効期限/);
  t.deepEqual(await held(only), ['tanaka@example.jp']);
  clock.ms -= 14 * 86_400_000;

  const audit = await server.context.audit.search({ limit: 50, action: 'link', visible: () => true });
  const actions = audit.items.map((r) => `${r.action} ${JSON.stringify(r.detail)}`);
  t.true(actions.some((x) => x.startsWith('link release') && x.includes('"result":"done"')), actions.join('\n'));
  t.deepEqual(actions.filter((x) => x.includes('refused')).sort(), [
    `link delete {"message":"${both}","recipient":"tanaka@example.jp","result":"refused: no copy held"}`,
    'link refused {"status":400}', 'link refused {"status":410}',
    `link release {"message":"${both}","recipient":"tanaka@example.jp","result":"refused: used before"}`,
  ]);
  t.false(actions.some((x) => x.includes('GET')));
  t.true(audit.items.every((r) => r.ip));
});

test('"open my quarantine" starts a short session limited to that mailbox; unsubscribe and resubscribe from the links', async (t) => {
  const clock = new Clock('2026-11-30T00:00:00Z');
  const { a } = await start(t, clock);
  const server = a.app.console!;
  await hold(a, clock.ms - 60_000, { to: ['tanaka@example.jp'], subject: '請求書' });
  await hold(a, clock.ms - 60_000, { to: ['suzuki@example.jp'], subject: 'suzuki only' });
  await hold(a, clock.ms - 60_000, { to: ['anna@example.de'], subject: 'anna only' });
  const digest = await a.app.reports.digest('tanaka@example.jp', 0, clock.ms);
  const links = [...digest.html.matchAll(/href="([^"]+)"/g)].map((m) => path(m[1].replaceAll('&amp;', '&')));
  const open = links.find((l) => claimsOf(l).a === 'open')!;

  t.regex((await server.app.inject({ method: 'GET', url: open })).body, /パスワードなしで 60 分間/);
  const opened = await server.app.inject({ method: 'POST', url: open });
  t.is(opened.statusCode, 303);
  t.is(opened.headers.location, '/#/quarantine');
  const cookie = opened.cookies.find((c) => c.name === 'mm_session')!;
  const headers = { cookie: `mm_session=${cookie.value}` };
  const session = (await server.app.inject({ method: 'GET', url: '/api/session', headers })).json();
  t.like(session.user, { username: 'tanaka@example.jp', role: 'user' });
  const items = (await server.app.inject({ method: 'GET', url: '/api/quarantine', headers })).json().items as { subject: string }[];
  t.deepEqual(items.map((i) => i.subject), ['請求書']);
  const other = await server.app.inject({ method: 'GET', url: '/api/reports/subscription?address=suzuki@example.jp', headers });
  t.is(other.statusCode, 403);
  // No account stands behind it: it cannot make API tokens or change a password.
  const token = await server.app.inject({ method: 'POST', url: '/api/tokens', headers: { ...headers, 'x-csrf-token': session.csrfToken }, payload: { name: 'x', access: 'write' } });
  t.is(token.statusCode, 403);

  const unsubscribe = links.find((l) => claimsOf(l).a === 'unsubscribe')!;
  const left = await server.app.inject({ method: 'POST', url: unsubscribe, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' });
  t.is(left.statusCode, 200);
  t.like((await server.app.inject({ method: 'GET', url: '/api/reports/subscription', headers })).json(), { subscribed: false, digestEnabled: true });
  // Unsubscribed: the next digest run passes tanaka by.
  await a.app.reports.tick();
  clock.set('2026-12-01T00:00:00Z');
  await hold(a, clock.ms - 1000, { to: ['tanaka@example.jp', 'suzuki@example.jp'], subject: 'また' });
  await a.app.reports.tick();
  t.deepEqual((await reportsSent(a)).filter((s) => s.startsWith('quarantine digest')), ['quarantine digest → suzuki@example.jp']);

  const resubscribe = path([...left.body.matchAll(/href="([^"]+)"/g)][0][1].replaceAll('&amp;', '&'));
  t.is(claimsOf(resubscribe).a, 'subscribe');
  t.is((await server.app.inject({ method: 'POST', url: resubscribe })).statusCode, 200);
  t.like((await server.app.inject({ method: 'GET', url: '/api/reports/subscription', headers })).json(), { subscribed: true });
  // And from the console (the mailbox user's own page).
  const put = await server.app.inject({ method: 'PUT', url: '/api/reports/subscription', headers: { ...headers, 'x-csrf-token': session.csrfToken }, payload: { subscribed: false } });
  t.is(put.statusCode, 200, put.body);
  t.is((await a.app.reports.store.subscription('tanaka@example.jp'))?.subscribed, false);
});

test('domain admins preview and send the domain report now; outbound quarantine notices are rate-limited', async (t) => {
  const clock = new Clock('2026-11-30T12:00:00Z');
  const { a, sink } = await start(t, clock);
  const server = a.app.console!;
  await server.context.users.create({ username: 'jpadmin', role: 'domain-admin', domains: ['example.jp'], password: PASSWORD, language: 'ja' });
  const login = await server.app.inject({ method: 'POST', url: '/api/session', payload: { username: 'jpadmin', password: PASSWORD } });
  const headers = { cookie: `mm_session=${login.cookies.find((c) => c.name === 'mm_session')!.value}`, 'x-csrf-token': login.json().csrfToken };
  await hold(a, Date.parse('2026-11-29T03:00:00Z'), { to: ['tanaka@example.jp'], subject: '請求書' }); // 29 Nov in Tokyo

  const preview = await server.app.inject({ method: 'GET', url: '/api/reports/preview/domain?domain=example.jp&date=2026-11-29&period=day', headers });
  t.is(preview.statusCode, 200, preview.body);
  t.regex(String(preview.headers['content-security-policy']), /sandbox/);
  t.regex(preview.body, /example\.jp の保護レポート[\s\S]*請求書/);
  const otherDay = await server.app.inject({ method: 'GET', url: '/api/reports/preview/domain?domain=example.jp&date=2026-11-28&period=day', headers });
  t.notRegex(otherDay.body, /請求書/);
  t.is((await server.app.inject({ method: 'GET', url: '/api/reports/preview/domain?domain=example.de&date=2026-11-29', headers })).statusCode, 403);
  const digestPreview = await server.app.inject({ method: 'GET', url: '/api/reports/preview/digest?address=tanaka@example.jp', headers });
  t.is(digestPreview.statusCode, 200);

  const sent = await server.app.inject({ method: 'POST', url: '/api/reports/send', headers, payload: { domain: 'example.jp', date: '2026-11-23', period: 'week', recipients: ['boss@example.jp'], withoutMessages: true } });
  t.is(sent.statusCode, 200, sent.body);
  t.like(sent.json(), { ok: true, held: 1 });
  const [mail] = await sink.waitFor(1);
  const parsed = await simpleParser(mail.raw);
  t.is(parsed.subject, '保護レポート example.jp: 1 件を保留中');
  t.regex(String(parsed.html), /隔離メールの一覧を含めていません/);
  t.notRegex(String(parsed.html), /請求書/);

  // Outbound mail quarantined: one notice to the domain's contact however many follow.
  const log = (i: number) => ({
    id: `O${i}`, receivedAt: clock.ms, direction: 'outbound' as const, mailFrom: 'sales@example.jp', size: 10, attempts: [], status: 'quarantined' as const,
    subject: `bulk ${i}`, client: { ip: '192.0.2.7', hostname: 'pc7.example.jp', helo: 'pc7', tls: false },
    recipients: [{ address: `x${i}@elsewhere.test`, original: `x${i}@elsewhere.test`, domain: '', status: 'quarantined' as const, mainClass: 'Spam' }],
  });
  const results = await Promise.all([1, 2, 3, 4, 5].map((i) => a.app.reports.outboundQuarantined(log(i))));
  t.deepEqual(results, [true, false, false, false, false]);
  clock.ms += 61 * 60_000;
  t.true(await a.app.reports.outboundQuarantined(log(6)));
  const notices = (await sink.waitFor(3)).filter((m) => m.to.includes('it@example.jp'));
  t.is(notices.length, 2);
  const notice = await simpleParser(notices[0].raw);
  t.is(notice.subject, 'example.jp からの送信メールが隔離されました');
  t.regex(String(notice.text), /sales@example\.jp[\s\S]*pc7\.example\.jp\[192\.0\.2\.7\]/);
  await eventually(() => (a.app.queue.length === 0 ? true : undefined));
});
