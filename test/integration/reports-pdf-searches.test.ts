// PDF reports, the extra table, per-user language and saved searches mailed, on a real appliance:
// real SMTP into it (greylisting and refusals land in the message log), reports delivered over
// SMTP to a loopback sink, the reports' clock moved by the test. The message log stamps records
// with the real time, so each test's clock starts at the real time and its reports are scheduled
// an hour later in Tokyo's wall-clock time. PDFs are checked with poppler: pdftotext must give
// back the Japanese text, pdftoppm must draw the page.
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { NewQuarantineRecord } from '../../appliance/quarantine/quarantine-store.ts';
import { wallClock } from '../../appliance/reports/schedule.ts';
import { eventually, message, startTestAppliance, type TestAppliance } from '../helpers/appliance.ts';
import { sendMail } from '../helpers/smtp-client.ts';
import { startSink, type Sink } from '../helpers/smtp-sink.ts';

const run = promisify(execFile);
const PASSWORD = 'correct horse battery';
const HOUR = 3_600_000;

class Clock {
  ms = Date.now();
  now = () => this.ms;
}

/** HH:MM in Tokyo an hour after `ms`: the reports' time, so the first tick starts a period and a tick an hour later sends. */
function tokyoTimeAnHourAfter(ms: number): string {
  const w = wallClock(ms + HOUR, 'Asia/Tokyo');
  return `${String(w.hour).padStart(2, '0')}:${String(w.minute).padStart(2, '0')}`;
}

let n = 0;
async function hold(a: TestAppliance, at: number, o: { to: string[]; subject: string; from?: string }): Promise<string> {
  const id = `P${++n}x${at.toString(36)}`;
  const dir = join(a.dataDir, 'test-spool');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${id}.eml`);
  const from = o.from ?? 'promo@shop.test';
  await writeFile(file, `From: ${from}\r\nTo: ${o.to.join(', ')}\r\nSubject: =?UTF-8?B?${Buffer.from(o.subject).toString('base64')}?=\r\n\r\nBuy now\r\n`);
  const input: NewQuarantineRecord = {
    queueId: id, receivedAt: at, direction: 'inbound', mailFrom: from, fromHeader: from, subject: o.subject, messageId: `<${id}@shop.test>`,
    size: 100, mainClass: 'Spam', score: 97, reasons: [], clientIp: '192.0.2.1',
    recipients: o.to.map((address) => ({ address, domain: address.split('@')[1], mainClass: 'Spam' as const, headerEdits: { prepend: [] }, why: ['score'] })),
  };
  return (await a.app.quarantine.put(input, file, at)).id;
}

async function start(t: ExecutionContext, config: (sink: Sink) => Record<string, unknown>, opts: { clock: Clock; reportFont?: string; say?: (l: string) => void }) {
  const sink = await startSink();
  const a = await startTestAppliance(config(sink), { console: true, now: opts.clock.now, ...(opts.reportFont ? { reportFont: opts.reportFont } : {}), ...(opts.say ? { say: opts.say } : {}) });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  await a.app.console!.context.setup.complete('test');
  return { a, sink };
}

/** The mails the sink got for an address whose subject matches, once there are `count`. */
async function mailsTo(sink: Sink, address: string, subject: RegExp, count = 1): Promise<ParsedMail[]> {
  return eventually(async () => {
    const parsed = await Promise.all(sink.messages.filter((m) => m.to.includes(address)).map((m) => simpleParser(m.raw)));
    const hits = parsed.filter((p) => subject.test(p.subject ?? ''));
    return hits.length >= count ? hits : undefined;
  });
}

async function pdfText(t: ExecutionContext, pdf: Buffer): Promise<string> {
  const dir = await mkdtemp(join(os.tmpdir(), 'mailmoat-pdf-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'r.pdf'), pdf);
  // The page draws (poppler opens the file and renders it to a PNG).
  await run('pdftoppm', ['-png', '-r', '40', '-f', '1', '-l', '1', '-singlefile', join(dir, 'r.pdf'), join(dir, 'page')]);
  t.deepEqual([...(await readFile(join(dir, 'page.png'))).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  return (await run('pdftotext', ['-enc', 'UTF-8', join(dir, 'r.pdf'), '-'])).stdout;
}

test('a PDF digest and domain report carry their Japanese text and the extra table of mail refused or deferred at SMTP', async (t) => {
  const clock = new Clock();
  const time = tokyoTimeAnHourAfter(clock.ms);
  const { a, sink } = await start(t, (sink) => ({
    filtering: { antivirus: { enabled: false } },
    relay: { networks: ['127.0.0.9/32'] }, // loopback clients are not exempt from greylisting
    domains: [{
      name: 'example.jp', timezone: 'Asia/Tokyo', routes: [{ host: '127.0.0.1', port: sink.port }],
      recipients: { mode: 'listed', addresses: ['tanaka', 'suzuki'] }, logInvalidRecipients: true,
      reports: {
        digest: { enabled: true, time, language: 'ja', format: 'pdf', extraTable: true },
        domain: { enabled: true, recipients: ['it@example.jp'], time, language: 'ja', format: 'pdf', extraTable: true },
      },
    }],
    policy: { domains: { 'example.jp': { greylisting: true } } },
  }), { clock });
  await a.app.reports.tick(); // enabling starts the first period
  await hold(a, clock.ms + 1000, { to: ['tanaka@example.jp'], subject: '【重要】請求書のお知らせ' });
  // Greylisted (451, logged "tempfailed") and an unknown recipient (550, logged "rejected at RCPT").
  const greylisted = await sendMail({ port: a.inbound, from: 'news@letters.test', to: ['tanaka@example.jp'], raw: message({ to: 'tanaka@example.jp', subject: '月次のご案内' }) });
  t.is(greylisted.code, 451);
  const unknown = await sendMail({ port: a.inbound, from: 'guess@spray.test', to: ['nobody@example.jp'], raw: message({ to: 'nobody@example.jp' }) });
  t.is(unknown.code, 550);
  await eventually(async () => (await a.app.log.search({ conditions: [], match: 'all', mode: 'exact', visible: () => true, limit: 10, scanCap: 1000 })).records.length >= 2 || undefined);

  clock.ms += HOUR + 60_000;
  await a.app.reports.tick();
  const [digest] = await mailsTo(sink, 'tanaka@example.jp', /^隔離レポート/);
  t.is(digest.subject, '隔離レポート tanaka@example.jp: 1 件を保留中');
  const pdf = digest.attachments.find((x) => x.contentType === 'application/pdf');
  t.truthy(pdf, 'the digest is a PDF attachment');
  t.regex(String(digest.text), /PDF ファイル（quarantine-report-\d{4}-\d{2}-\d{2}\.pdf）/);
  const text = await pdfText(t, pdf!.content);
  t.true(text.includes('【重要】請求書のお知らせ'), text);
  t.true(text.includes('SMTP で拒否・一時拒否したメール (1)'), text);
  t.regex(text, /news@letters\.test[\s\S]*tempfailed/);
  t.false(text.includes('nobody@example.jp'), 'a mailbox sees only its own refusals');

  const [report] = await mailsTo(sink, 'it@example.jp', /^保護レポート/);
  const reportText = await pdfText(t, report.attachments.find((x) => x.contentType === 'application/pdf')!.content);
  t.true(reportText.includes('example.jp の保護レポート'), reportText);
  t.true(reportText.includes('【重要】請求書のお知らせ'));
  t.true(reportText.includes('SMTP で拒否・一時拒否したメール (2)'), reportText);
  t.regex(reportText, /nobody@example\.jp[\s\S]*rejected at\s+RCPT[\s\S]*550 5\.1\.1/);
});

test('without the Japanese font a PDF report goes as HTML and the log says what to install', async (t) => {
  const clock = new Clock();
  const said: string[] = [];
  const { a, sink } = await start(t, (sink) => ({
    filtering: { antivirus: { enabled: false } },
    domains: [{ name: 'example.jp', timezone: 'Asia/Tokyo', routes: [{ host: '127.0.0.1', port: sink.port }], reports: { domain: { format: 'pdf', language: 'ja' } } }],
  }), { clock, reportFont: '/nonexistent/ipag.ttf', say: (l) => said.push(l) });
  await hold(a, clock.ms - HOUR, { to: ['tanaka@example.jp'], subject: '当選のお知らせ' });
  const day = new Date(clock.ms - HOUR).toLocaleDateString('sv-SE', { timeZone: 'Asia/Tokyo' });
  await a.app.reports.sendDomainReport({ domain: 'example.jp', date: day, period: 'day', language: 'ja', recipients: ['it@example.jp'], withoutMessages: false });
  const [mail] = await mailsTo(sink, 'it@example.jp', /^保護レポート/);
  t.deepEqual(mail.attachments, []);
  t.true(String(mail.html).includes('当選のお知らせ'));
  t.true(said.some((l) => l.includes('was sent as HTML instead') && l.includes('/nonexistent/ipag.ttf') && l.includes('install the Debian package fonts-ipafont-gothic')), said.join('\n'));
});

test('a digest follows its mailbox account\'s language, else the domain\'s', async (t) => {
  const clock = new Clock();
  const time = tokyoTimeAnHourAfter(clock.ms);
  const { a, sink } = await start(t, (sink) => ({
    filtering: { antivirus: { enabled: false } },
    domains: [{ name: 'example.de', timezone: 'Asia/Tokyo', routes: [{ host: '127.0.0.1', port: sink.port }], reports: { digest: { enabled: true, time, language: 'en' } } }],
  }), { clock });
  await a.app.console!.context.users.create({ username: 'anna@example.de', role: 'user', password: PASSWORD, language: 'ja' });
  await a.app.reports.tick();
  await hold(a, clock.ms + 1000, { to: ['anna@example.de', 'bob@example.de'], subject: 'Your parcel is waiting' });
  clock.ms += HOUR + 60_000;
  await a.app.reports.tick();
  t.is((await mailsTo(sink, 'anna@example.de', /anna/))[0].subject, '隔離レポート anna@example.de: 1 件を保留中');
  t.is((await mailsTo(sink, 'bob@example.de', /bob/))[0].subject, 'Quarantine report for bob@example.de: 1 message(s) held');
});

test('saved searches: saved within the account\'s scope, mailed on schedule as CSV or HTML in the owner\'s language, and sent now', async (t) => {
  const clock = new Clock();
  const time = tokyoTimeAnHourAfter(clock.ms);
  const { a, sink } = await start(t, (sink) => ({
    filtering: { antivirus: { enabled: false } },
    domains: [
      { name: 'example.jp', timezone: 'Asia/Tokyo', routes: [{ host: '127.0.0.1', port: sink.port }] },
      { name: 'example.de', timezone: 'Europe/Berlin', routes: [{ host: '127.0.0.1', port: sink.port }] },
    ],
  }), { clock });
  const server = a.app.console!;
  const login = async (username: string, role: 'domain-admin' | 'user', language: 'ja' | 'en') => {
    await server.context.users.create({ username, role, ...(role === 'domain-admin' ? { domains: ['example.jp'] } : {}), password: PASSWORD, language });
    const res = await server.app.inject({ method: 'POST', url: '/api/session', payload: { username, password: PASSWORD } });
    return { cookie: `mm_session=${res.cookies.find((c) => c.name === 'mm_session')!.value}`, 'x-csrf-token': res.json().csrfToken as string };
  };
  const admin = await login('jpadmin', 'domain-admin', 'ja');
  const tanaka = await login('tanaka@example.jp', 'user', 'en');
  const save = (headers: Record<string, string>, payload: Record<string, unknown>) => server.app.inject({ method: 'POST', url: '/api/saved-searches', headers, payload });

  // Recipients must lie in the account's scope.
  t.is((await save(admin, { name: 'x', fields: { subject: '請求書' }, time, recipients: ['boss@example.de'] })).statusCode, 403);
  t.is((await save(admin, { name: 'x', fields: { subject: '請求書' }, time })).statusCode, 400, 'a domain admin names the recipients');
  t.is((await save(tanaka, { name: 'x', fields: {}, time, recipients: ['suzuki@example.jp'] })).statusCode, 403);
  t.is((await save(admin, { name: 'x', fields: { nosuch: 'y' }, time, recipients: ['it@example.jp'] })).statusCode, 400);
  const invoices = await save(admin, { name: '請求書', fields: { subject: '請求書' }, format: 'csv', time, recipients: ['it@example.jp'] });
  t.is(invoices.statusCode, 201);
  const mine = await save(tanaka, { name: 'Invoices', fields: { subject: 'invoice' }, format: 'html', time });
  t.is(mine.statusCode, 201);
  t.deepEqual(mine.json().search.recipients, ['tanaka@example.jp']);
  t.deepEqual((await server.app.inject({ method: 'GET', url: '/api/saved-searches', headers: tanaka })).json().items.map((s: { name: string }) => s.name), ['Invoices']);
  t.is((await server.app.inject({ method: 'DELETE', url: `/api/saved-searches/${invoices.json().search.id}`, headers: tanaka })).statusCode, 404, 'not another account\'s');

  await a.app.reports.tick(); // saved: the first mailing covers what arrives from now on
  for (const [to, subject] of [['suzuki@example.jp', '請求書 11月分'], ['tanaka@example.jp', 'Invoice 1234'], ['hans@example.de', '請求書 (de)']]) {
    const sent = await sendMail({ port: a.inbound, from: 'billing@vendor.test', to: [to], raw: message({ to, subject, from: 'billing@vendor.test' }) });
    t.true(sent.ok, sent.response);
  }
  await eventually(async () => (await a.app.log.search({ conditions: [], match: 'all', mode: 'exact', visible: () => true, limit: 10, scanCap: 1000 })).records.length >= 3 || undefined);

  clock.ms += HOUR + 60_000;
  await a.app.reports.tick();
  const [csvMail] = await mailsTo(sink, 'it@example.jp', /^保存した検索/);
  t.is(csvMail.subject, '保存した検索「請求書」: 1 件');
  const csv = csvMail.attachments.find((x) => x.filename?.endsWith('.csv'))!.content.toString('utf8');
  t.true(csv.startsWith('\ufeffreceivedAt,'));
  t.true(csv.includes('請求書 11月分') && csv.includes('suzuki@example.jp'));
  t.false(csv.includes('(de)'), 'only the domain admin\'s domains');
  const [htmlMail] = await mailsTo(sink, 'tanaka@example.jp', /^Saved search/);
  t.is(htmlMail.subject, 'Saved search "Invoices": 1 message(s)');
  t.regex(String(htmlMail.html), /Invoice 1234/);
  t.deepEqual(htmlMail.attachments, []);

  // Once per slot: another tick sends nothing more; "send now" sends again.
  await a.app.reports.tick();
  const now = await server.app.inject({ method: 'POST', url: `/api/saved-searches/${mine.json().search.id}/send`, headers: tanaka });
  t.deepEqual(now.json(), { sent: true });
  await mailsTo(sink, 'tanaka@example.jp', /^Saved search/, 2);
  t.is(sink.messages.filter((m) => m.to.includes('it@example.jp')).length, 1);
  t.is((await server.app.inject({ method: 'DELETE', url: `/api/saved-searches/${mine.json().search.id}`, headers: tanaka })).statusCode, 200);
  t.deepEqual((await server.app.inject({ method: 'GET', url: '/api/saved-searches', headers: tanaka })).json().items, []);

  // An account deleted: its searches go at the next tick.
  const jpadmin = (await server.context.users.byName('jpadmin'))!;
  await server.context.users.remove(jpadmin, server.context.sessions);
  await a.app.reports.tick();
  t.deepEqual(await a.app.reports.store.savedSearches(), []);
});
