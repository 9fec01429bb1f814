// The console's message log search and export through the API, over the real store and indexes:
// every field of the hosted filter's log search, exact and partial, all and any, times to the
// minute, "latest only", paging, each role's scope (admin, domain admin, mailbox user), unknown
// parameters refused, and the CSV export (BOM or none, columns chosen, guarded cells, every row).
import test, { type ExecutionContext } from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { messageLogProvider } from '../../appliance/api/providers/message-log.ts';
import { MessageLog, type MessageLogRecord } from '../../appliance/logsearch/message-log.ts';
import { openStore } from '../../appliance/store/store.ts';
import { unguardCell } from '../../appliance/csv/csv.ts';
import { makeConsole, TWO_DOMAINS, type Caller } from '../helpers/console-api.ts';

const T0 = Date.UTC(2026, 10, 20, 0, 0);
const MIN = 60_000;

function records(): MessageLogRecord[] {
  const id = (i: number) => MessageLog.newId(T0 + i * MIN);
  return [
    { id: id(0), receivedAt: T0, server: 'mx1.test', direction: 'inbound', mailFrom: 'tanaka@ext.test', from: '田中 太郎 <tanaka.taro@ext.test>',
      subject: 'ご請求書の送付', messageId: '<r1@ext.test>', size: 2000, client: { ip: '192.0.2.10', hostname: 'mail.ext.test', helo: 'mail.ext.test', tls: true },
      recipients: [{ address: 'carol@a.example', original: 'info@a.example', status: 'delivered', mainClass: 'NotSpam' }],
      attempts: [{ at: T0 + 20_000, recipients: ['carol@a.example'], host: 'mx.a.example [198.51.100.7]', port: 25, code: 250, reply: '250 ok 1503388459 qp 9583' }],
      status: 'delivered', reply: '250 2.0.0 Ok: queued' },
    { id: id(1), receivedAt: T0 + MIN, server: 'mx1.test', direction: 'inbound', mailFrom: 'billing@shop.test', from: 'billing@shop.test',
      subject: 'Invoice 4471', messageId: '<r2@shop.test>', size: 3000, client: { ip: '192.0.2.20', hostname: 'relay.shop.test', helo: 'relay', tls: false },
      recipients: [{ address: 'dave@b.example', original: 'dave@b.example', status: 'quarantined', mainClass: 'Spam' }],
      attempts: [], status: 'quarantined', reply: '550 5.7.1 Message refused as spam' },
    { id: id(2), receivedAt: T0 + 2 * MIN, server: 'mx2.test', direction: 'inbound', mailFrom: 'spammer@bad.test', size: 0,
      client: { ip: '203.0.113.9', hostname: '[203.0.113.9]', helo: 'x', tls: false },
      recipients: [{ address: 'nobody@a.example', original: 'nobody@a.example', status: 'rejected' }],
      attempts: [], status: 'rejected at RCPT', reply: '550 5.1.1 Recipient address rejected: no such user here' },
    { id: id(3), receivedAt: T0 + 3 * MIN, server: 'mx2.test', direction: 'outbound', mailFrom: 'carol@a.example', from: 'carol@a.example',
      subject: '=HYPERLINK("http://evil.test","見積")', messageId: '<r4@a.example>', size: 1500, client: { ip: '192.0.2.99', hostname: 'pc.a.example', helo: 'pc', tls: true },
      recipients: [{ address: 'partner@partner.test', original: 'partner@partner.test', status: 'delivered', mainClass: 'NotSpam' }],
      attempts: [{ at: T0 + 4 * MIN, recipients: ['partner@partner.test'], host: '203.0.113.25', port: 2525, code: 250, reply: '250 2.0.0 accepted' }],
      status: 'delivered', reply: '250 2.0.0 Ok: queued' },
  ];
}

async function setup(t: ExecutionContext) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-logapi-'));
  const store = await openStore(dataDir);
  t.teardown(async () => { await store.close(); await rm(dataDir, { recursive: true, force: true }); });
  const log = await MessageLog.open(store);
  const recs = records();
  for (const r of recs) await log.put(r);
  const h = await makeConsole(t, { config: TWO_DOMAINS, providers: { log: messageLogProvider(log) } });
  await h.addUser('root', 'admin');
  await h.addUser('alice', 'domain-admin', ['a.example']);
  await h.addUser('bob', 'domain-admin', ['b.example']);
  await h.addUser('carol@a.example', 'user');
  await h.addUser('dave@b.example', 'user');
  const callers: Record<string, Caller> = {
    root: await h.login('root'), alice: await h.login('alice'), bob: await h.login('bob'),
    carol: await h.login('carol@a.example'), dave: await h.login('dave@b.example'),
  };
  const ids = recs.map((r) => r.id);
  /** Record numbers (1-based) a search finds for a caller, following every page. */
  const search = async (who: string, query: string): Promise<number[]> => {
    const found: number[] = [];
    let cursor: string | undefined;
    do {
      const res = await h.request('GET', `/api/messages?${query}${cursor ? `&cursor=${cursor}` : ''}`, { as: callers[who] });
      if (res.status !== 200) throw new Error(`${query}: ${res.status} ${JSON.stringify(res.json)}`);
      found.push(...res.json.items.map((i: { id: string }) => ids.indexOf(i.id) + 1));
      cursor = res.json.next;
    } while (cursor);
    return found;
  };
  return { h, log, recs, callers, search };
}

/** What each caller may see: alice a.example (R4 is from her domain), bob b.example, carol and dave their own. */
const VISIBLE: Record<string, number[]> = { root: [1, 2, 3, 4], alice: [1, 3, 4], bob: [2], carol: [1, 4], dave: [2] };

test('every field finds its records, exact and partial, within each role\'s scope', async (t) => {
  const s = await setup(t);
  const q = (params: Record<string, string>) => new URLSearchParams(params).toString();
  const cases: [string, Record<string, string>, number[]][] = [
    ['server exact', { server: 'MX1.test', mode: 'exact' }, [2, 1]],
    ['server partial', { server: 'mx2', mode: 'contains' }, [4, 3]],
    ['our id', { queueId: s.recs[1].id, mode: 'exact' }, [2]],
    ['Message-ID exact, with or without brackets', { messageId: '<r1@ext.test>', mode: 'exact' }, [1]],
    ['Message-ID partial', { messageId: 'r4@', mode: 'contains' }, [4]],
    ['subject exact', { subject: 'ご請求書の送付', mode: 'exact' }, [1]],
    ['Japanese subject partial', { subject: '請求', mode: 'contains' }, [1]],
    ['subject partial across words', { subject: 'voice 44', mode: 'contains' }, [2]],
    ['envelope sender exact', { sender: 'tanaka@ext.test', mode: 'exact' }, [1]],
    ['From header exact', { sender: 'tanaka.taro@ext.test', mode: 'exact' }, [1]],
    ['sender exact is not partial', { sender: 'tanaka', mode: 'exact' }, []],
    ['sender partial', { sender: 'shop', mode: 'contains' }, [2]],
    ['original recipient (alias)', { recipient: 'info@a.example', mode: 'exact' }, [1]],
    ['resolved recipient', { recipient: 'carol@a.example', mode: 'exact' }, [1]],
    ['recipient partial', { recipient: 'partner', mode: 'contains' }, [4]],
    ['client IP exact', { clientIp: '192.0.2.20', mode: 'exact' }, [2]],
    ['client IP partial', { clientIp: '203.0.113', mode: 'contains' }, [3]],
    ['client host', { clientHost: 'relay.shop.test', mode: 'exact' }, [2]],
    ['delivery status exact', { deliveryStatus: '250 ok 1503388459 qp 9583', mode: 'exact' }, [1]],
    ['delivery status partial', { deliveryStatus: 'qp 9583', mode: 'contains' }, [1]],
    ['destination IP', { destIp: '198.51.100.7', mode: 'exact' }, [1]],
    ['destination IP without a name', { destIp: '203.0.113.25', mode: 'exact' }, [4]],
    ['destination host', { destHost: 'mx.a.example', mode: 'exact' }, [1]],
    ['destination port', { destPort: '2525', mode: 'exact' }, [4]],
    ['class', { class: 'spam', mode: 'exact' }, [2]],
    ['status quarantined', { status: 'quarantined', mode: 'exact' }, [2]],
    ['status rejected at RCPT', { status: 'rejected at RCPT', mode: 'exact' }, [3]],
    ['all of two fields', { sender: 'tanaka@ext.test', class: 'Spam', mode: 'exact', match: 'all' }, []],
    ['any of two fields', { sender: 'tanaka@ext.test', class: 'Spam', mode: 'exact', match: 'any' }, [2, 1]],
    ['three fields, any', { subject: 'invoice', recipient: 'nobody', server: 'mx9', mode: 'contains', match: 'any' }, [3, 2]],
    ['received in a range of minutes', { from: new Date(T0 + MIN).toISOString(), to: new Date(T0 + 3 * MIN).toISOString() }, [3, 2]],
    ['delivered after', { deliveredAfter: new Date(T0 + MIN).toISOString() }, [4]],
    ['no criteria', {}, [4, 3, 2, 1]],
    ['latest only, whatever else is asked', { latest: 'true', sender: 'nobody-matches' }, [4]],
  ];
  for (const [label, params, all] of cases) {
    for (const who of Object.keys(VISIBLE)) {
      const want = label.startsWith('latest') ? [Math.max(...VISIBLE[who])] : all.filter((n) => VISIBLE[who].includes(n));
      t.deepEqual(await s.search(who, q({ ...params, limit: '1' })), want, `${label} as ${who}`);
    }
  }
});

test('a domain admin sees only their recipients of a record; unknown parameters and bad dates are refused', async (t) => {
  const s = await setup(t);
  const res = await s.h.request('GET', '/api/messages?bogus=1&sender=x', { as: s.callers.root });
  t.is(res.status, 400);
  t.deepEqual(res.json.problems.map((p: { path: string }) => p.path), ['/querystring/bogus']);
  t.is((await s.h.request('GET', '/api/messages/export?page=2', { as: s.callers.root })).status, 400);
  t.is((await s.h.request('GET', '/api/messages?from=yesterday', { as: s.callers.root })).status, 400);
  t.is((await s.h.request('GET', '/api/messages?mode=fuzzy', { as: s.callers.root })).status, 400);
  const one = await s.h.request('GET', `/api/messages/${s.recs[1].id}`, { as: s.callers.bob });
  t.is(one.json.message.subject, 'Invoice 4471');
  t.is((await s.h.request('GET', `/api/messages/${s.recs[1].id}`, { as: s.callers.alice })).status, 404);
});

function parseCsv(text: string): string[][] {
  // The cells here hold no line breaks; quoted cells may hold commas and doubled quotes.
  return text.split('\r\n').filter(Boolean).map((line) => [...line.matchAll(/("([^"]|"")*"|[^,]*)(,|$)/g)]
    .filter((m) => m.index < line.length || m[0] !== '')
    .map((m) => (m[1].startsWith('"') ? m[1].slice(1, -1).replaceAll('""', '"') : m[1])));
}

test('the CSV export: UTF-8 with a BOM, the columns chosen in their order, formulas guarded, the caller\'s scope', async (t) => {
  const s = await setup(t);
  const res = await s.h.server.app.inject({ method: 'GET', url: '/api/messages/export?columns=subject,sender,recipients,status,deliveryStatus', headers: { cookie: s.callers.root.cookie! } });
  t.is(res.statusCode, 200);
  t.regex(String(res.headers['content-type']), /^text\/csv; charset=utf-8/);
  t.regex(String(res.headers['content-disposition']), /^attachment; filename="mailmoat-messages-\d{8}-\d{4}\.csv"$/);
  t.deepEqual([...res.rawPayload.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const rows = parseCsv(res.rawPayload.subarray(3).toString('utf8'));
  t.deepEqual(rows[0], ['subject', 'sender', 'recipients', 'status', 'deliveryStatus']);
  t.deepEqual(rows.slice(1).map((r) => r[0]), [`'=HYPERLINK("http://evil.test","見積")`, '', 'Invoice 4471', 'ご請求書の送付']);
  t.is(unguardCell(rows[1][0]), s.recs[3].subject ?? '');
  t.deepEqual(rows[4], ['ご請求書の送付', 'tanaka@ext.test', 'carol@a.example', 'delivered', '250 ok 1503388459 qp 9583']);

  const bob = await s.h.server.app.inject({ method: 'GET', url: '/api/messages/export?status=quarantined&mode=exact', headers: { cookie: s.callers.bob.cookie! } });
  const bobRows = parseCsv(bob.rawPayload.subarray(3).toString('utf8'));
  t.is(bobRows.length, 2);
  t.is(bobRows[1][1], s.recs[1].id);
  const dave = await s.h.server.app.inject({ method: 'GET', url: '/api/messages/export?sender=tanaka', headers: { cookie: s.callers.dave.cookie! } });
  t.is(parseCsv(dave.rawPayload.subarray(3).toString('utf8')).length, 1, 'only the header: the message is not dave\'s');
  t.is((await s.h.request('GET', '/api/messages/export?columns=subject,password', { as: s.callers.root })).status, 400);
});

test('the CSV export holds every matching record, past any page size', async (t) => {
  const s = await setup(t);
  const many = 1234;
  const base = s.recs[0];
  for (let i = 0; i < many; i++) {
    const at = T0 + (10 + i) * 1000;
    await s.log.put({ ...base, id: MessageLog.newId(at), receivedAt: at, subject: `bulk ${i}`, attempts: [] });
  }
  const res = await s.h.server.app.inject({ method: 'GET', url: '/api/messages/export?subject=bulk&columns=subject', headers: { cookie: s.callers.root.cookie! } });
  const rows = parseCsv(res.rawPayload.subarray(3).toString('utf8')).slice(1).map((r) => r[0]);
  t.is(rows.length, many);
  t.is(new Set(rows).size, many);
  t.is(rows[0], `bulk ${many - 1}`);
  t.is(rows.at(-1), 'bulk 0');
  // No criteria (a walk through every record), and without the byte order mark when asked.
  const all = await s.h.server.app.inject({ method: 'GET', url: '/api/messages/export?columns=subject,id&bom=false', headers: { cookie: s.callers.root.cookie! } });
  t.is(all.statusCode, 200);
  t.true(all.body.startsWith('subject,id\r\n'), 'no byte order mark');
  const everything = parseCsv(all.body).slice(1).map((r) => r[0]);
  t.is(everything.length, many + s.recs.length);
  t.is(everything.at(-1), s.recs[0].subject, 'newest first, to the oldest');
  t.is(everything[0], `bulk ${many - 1}`);
  t.true(s.recs.every((r) => everything.includes(unguardCell(r.subject ?? '')) || everything.includes(`'${r.subject}`)));
});
