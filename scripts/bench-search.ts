// `npm run bench:search`: the message log's indexed search at a realistic size (issue 13).
// Fills a fresh store with synthetic records spread over --days (10 000 senders, 3 000 recipients
// in 20 domains, 5 % quarantined, Japanese and English subjects, delivery replies) and reports:
//   p50/p95 of a first page of 50, newest first: one field exact, partial (sender and subject),
//     three fields "all" and "any", and one field within a domain admin's scope;
//   CSV export rows/s over --export-rows rows (the console's export path, without HTTP) and the
//     peak RSS during it;
//   store size per million records; insert cost: the bulk fill rate, the index keys per record,
//     and a synced single-record write with its index keys against the record alone;
//   statistics: a year of counters for the 20 domains (one message per domain and hour), read as
//     the statistics page reads them: a year by day and by month, box-wide and for a domain admin
//     of 5 domains.
//   statistics tables: the top 20 senders and the spam-score histogram of that year, read the same way.
// The default --records 200000 suits a shared machine; the issue's targets are stated for
// 1 M and 3 M records (`--records 1000000`, `--records 3000000`, GB of disk). A fill that size takes
// long on a shared box, so it is bounded and resumable: --fill-minutes stops filling when the time is
// up (the searches then run on what is there, and say how many), and --data DIR keeps the store,
// whose next run continues the fill where it stopped (record i is the same whichever run writes it,
// and the 30 days end where the first run put them). So 3 M records can be filled in steps:
//   node scripts/bench-search.ts --records 3000000 --data /var/tmp/bench3m --fill-minutes 20   (repeat)
//   node scripts/bench-search.ts [--records 200000] [--days 30] [--runs 40] [--export-rows 100000] [--data DIR] [--fill-minutes M]
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { messageLogProvider } from '../appliance/api/providers/message-log.ts';
import { csvStream } from '../appliance/csv/csv.ts';
import { indexKeys, type LogCondition, type LogSearchQuery } from '../appliance/logsearch/log-index.ts';
import { MessageLog, type LogStatus, type MessageLogRecord } from '../appliance/logsearch/message-log.ts';
import { openStore, type BatchOp } from '../appliance/store/store.ts';
import { statisticsProvider } from '../appliance/api/providers/statistics.ts';
import { Stats } from '../appliance/stats/counters.ts';

const { values: a } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' }, days: { type: 'string', default: '30' }, runs: { type: 'string', default: '40' },
    'export-rows': { type: 'string', default: '100000' }, data: { type: 'string' }, 'fill-minutes': { type: 'string' },
  },
  strict: true,
});
const N = Number(a.records);
const DAYS = Number(a.days);
const RUNS = Number(a.runs);
const FILL_MS = a['fill-minutes'] === undefined ? Infinity : Number(a['fill-minutes']) * 60_000;

// A small deterministic generator, so two runs fill the same store.
let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];

const SURNAMES = ['tanaka', 'suzuki', 'sato', 'takahashi', 'watanabe', 'ito', 'yamamoto', 'nakamura', 'kobayashi', 'kato', 'smith', 'jones', 'brown', 'miller', 'wilson'];
const WORDS_EN = ['invoice', 'meeting', 'report', 'order', 'shipment', 'update', 'newsletter', 'password', 'account', 'offer', 'project', 'schedule', 'payment', 'reminder'];
const WORDS_JA = ['ご請求書', '会議', '見積もり', '発注', '納品', 'お知らせ', '確認', 'ご案内', '打ち合わせ', '予約', 'セミナー', '定例', 'キャンペーン', '契約'];
const DOMAINS = Array.from({ length: 20 }, (_, i) => `customer${i}.example`);
const senders = Array.from({ length: 10_000 }, (_, i) => `${pick(SURNAMES)}.${i}@${pick(['mail', 'corp', 'shop', 'news'])}${i % 900}.test`);
const recipients = Array.from({ length: 3000 }, (_, i) => `${pick(SURNAMES)}${i}@${DOMAINS[i % DOMAINS.length]}`);
const clientIps = Array.from({ length: 5000 }, (_, i) => `198.${18 + (i % 2)}.${(i >> 8) & 255}.${i & 255}`);

function subject(i: number): string {
  if (rand() < 0.5) return `${pick(WORDS_JA)}の${pick(WORDS_JA)}について (${i % 1000})`;
  return `${pick(['', 'Re: ', 'Fwd: '])}${pick(WORDS_EN)} ${pick(WORDS_EN)} #${i % 10_000}`;
}

function status(): { status: LogStatus; rcpt: MessageLogRecord['recipients'][number]['status']; cls: string } {
  const x = rand();
  if (x < 0.05) return { status: 'quarantined', rcpt: 'quarantined', cls: 'Spam' };
  if (x < 0.12) return { status: 'rejected', rcpt: 'rejected', cls: pick(['Spam', 'Virus', 'Blacklisted']) };
  if (x < 0.15) return { status: 'rejected at RCPT', rcpt: 'rejected', cls: '' };
  if (x < 0.17) return { status: 'deferred', rcpt: 'pending', cls: 'NotSpam' };
  if (x < 0.18) return { status: 'bounced', rcpt: 'bounced', cls: 'NotSpam' };
  return { status: 'delivered', rcpt: 'delivered', cls: pick(['NotSpam', 'NotSpam', 'NotSpam', 'Unsure', 'Whitelisted']) };
}

function record(i: number, at: number): MessageLogRecord {
  // Each record from its own seed, so a resumed fill writes the same records as one run would.
  seed = (i * 2654435761 + 97) % 2147483648;
  const s = status();
  const to = pick(recipients);
  const domain = to.slice(to.indexOf('@') + 1);
  const from = pick(senders);
  const ip = pick(clientIps);
  const attempt = s.status === 'delivered' || s.status === 'bounced' || s.status === 'deferred';
  const code = s.status === 'delivered' ? 250 : s.status === 'bounced' ? 550 : 451;
  return {
    id: MessageLog.newId(at), receivedAt: at, server: 'mx1.mailmoat.test', direction: 'inbound',
    client: { ip, hostname: `mail-${ip.replaceAll('.', '-')}.isp.test`, helo: 'mail', tls: rand() < 0.8 },
    mailFrom: from, ...(s.status === 'rejected at RCPT' ? {} : { from: `${from.split('@')[0]} <${from}>`, subject: subject(i), messageId: `<${i.toString(36)}.${Math.floor(rand() * 1e9).toString(36)}@${from.split('@')[1]}>` }),
    size: 2000 + Math.floor(rand() * 60_000),
    recipients: [{ address: to, original: to, status: s.rcpt, ...(s.cls ? { mainClass: s.cls } : {}) }],
    attempts: attempt ? [{ at: at + 2000, recipients: [to], host: `mx.${domain} [192.0.2.${domain.length + 10}]`, port: 25, code,
      reply: code === 250 ? `250 2.0.0 Ok: queued as ${Math.floor(rand() * 1e10).toString(16).toUpperCase()}` : code === 550 ? '550 5.1.1 user unknown' : '451 4.7.1 greylisted' }] : [],
    status: s.status, reply: s.status === 'rejected at RCPT' ? '550 5.1.1 Recipient address rejected: no such user here' : '250 2.0.0 Ok',
  };
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(dir, { recursive: true })) total += (await stat(path.join(dir, f))).size;
  return total;
}

const pct = (xs: number[], p: number) => { const s = [...xs].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };
const ms = (x: number) => `${x.toFixed(1)} ms`;

const dataDir = a.data ?? await mkdtemp(path.join(os.tmpdir(), 'mailmoat-bench-search-'));
// What an earlier run with this --data filled: how many records, and where its days end.
const FILL_STATE = path.join(dataDir, 'bench-fill.json');
const resumed = await readFile(FILL_STATE, 'utf8').then((t) => JSON.parse(t) as { filled: number; end: number; days: number }, () => undefined);
if (resumed && resumed.days !== DAYS) throw new Error(`${dataDir} was filled over ${resumed.days} days, not ${DAYS}`);
const store = await openStore(dataDir);
const log = await MessageLog.open(store);
const end = resumed?.end ?? Date.now();
const start = end - DAYS * 86_400_000;
console.log(`bench:search — ${N} records over ${DAYS} days in ${dataDir}${resumed ? ` (${resumed.filled} there already)` : ''}`);

// ---- fill ----
const SAMPLE = 100;
let indexKeyCount = 0;
let indexBytes = 0;
let recordBytes = 0;
const fillStart = performance.now();
let ops: BatchOp[] = [];
let filled = resumed?.filled ?? 0;
const saveFill = () => writeFile(FILL_STATE, JSON.stringify({ filled, end, days: DAYS }));
let sampled = 0;
for (let i = filled; i < N; i++) {
  const r = record(i, start + Math.floor((i / N) * (end - start)));
  // The raw sizes from one record in SAMPLE: measuring every record cost the fill as much again as
  // writing it, and the fill must write only what the daemon's write path writes (writeOps).
  if (i % SAMPLE === 0) {
    const keys = indexKeys(r);
    indexKeyCount += keys.size;
    for (const k of keys) indexBytes += Buffer.byteLength(k) + 1;
    recordBytes += Buffer.byteLength(JSON.stringify(r)) + r.id.length;
    sampled++;
  }
  ops.push(...log.writeOps(r));
  if (ops.length >= 20_000) {
    await store.batch(ops);
    ops = [];
    filled = i + 1;
    await saveFill();
    if (performance.now() - fillStart > FILL_MS) break;
  }
  if (i && i % 100_000 === 0) console.log(`  … ${i} records (${((performance.now() - fillStart) / 1000).toFixed(0)} s)`);
}
if (ops.length) {
  await store.batch(ops);
  filled = N;
  await saveFill();
}
const fillSeconds = (performance.now() - fillStart) / 1000;
const filledNow = filled - (resumed?.filled ?? 0);
if (filled < N) console.log(`the fill stopped after --fill-minutes with ${filled} of ${N} records (run again with --data ${dataDir} to go on); measuring those`);
const EXPORT_ROWS = Math.min(Number(a['export-rows']), filled);

// ---- insert cost on the mail path: one synced batch per message, record alone vs with its keys ----
const plain = store.sublevel<MessageLogRecord>('log');
const single: { alone: number[]; indexed: number[] } = { alone: [], indexed: [] };
for (let i = 0; i < 300; i++) {
  const r = record(N + i, end + i);
  const t0 = performance.now();
  if (i % 2) await plain.put(r.id, r, { sync: true });
  else await store.batch(log.writeOps(r), { sync: true });
  (i % 2 ? single.alone : single.indexed).push(performance.now() - t0);
}

// ---- searches ----
type Q = Omit<LogSearchQuery, 'visible' | 'limit' | 'scanCap'>;
const timed = async (label: string, make: () => Q, scoped?: (q: Q) => Q) => {
  const times: number[] = [];
  let found = 0;
  for (let i = 0; i < RUNS; i++) {
    const q = (scoped ?? ((x) => x))(make());
    const t0 = performance.now();
    const page = await log.search({ ...q, visible: () => true, limit: 50, scanCap: 20_000 });
    times.push(performance.now() - t0);
    found += page.records.length;
  }
  console.log(`  ${label.padEnd(46)} p50 ${ms(pct(times, 50)).padStart(10)}  p95 ${ms(pct(times, 95)).padStart(10)}  (avg ${(found / RUNS).toFixed(1)} rows)`);
};
const one = (c: LogCondition, mode: 'exact' | 'contains' = 'exact'): Q => ({ conditions: [c], match: 'all', mode });
console.log('\nfirst page of 50, newest first:');
await timed('sender exact', () => one({ field: 'sender', value: pick(senders) }));
await timed('recipient exact', () => one({ field: 'recipient', value: pick(recipients) }));
await timed('client IP exact', () => one({ field: 'clientIp', value: pick(clientIps) }));
await timed('status exact (quarantined, 5 %)', () => one({ field: 'status', value: 'quarantined' }));
await timed('sender contains (surname.NNN)', () => { const s = pick(senders); return one({ field: 'sender', value: s.slice(0, s.indexOf('@')) }, 'contains'); });
await timed('sender contains (domain part)', () => { const s = pick(senders); return one({ field: 'sender', value: s.slice(s.indexOf('@') + 1, -5) }, 'contains'); });
await timed('subject contains (Japanese word)', () => one({ field: 'subject', value: pick(WORDS_JA) }, 'contains'));
await timed('subject contains (part of an English word)', () => one({ field: 'subject', value: pick(WORDS_EN).slice(1, 5) }, 'contains'));
await timed('three fields all (recipient, status, class)', () => ({ match: 'all', mode: 'exact', conditions: [
  { field: 'recipient', value: pick(recipients) }, { field: 'status', value: 'delivered' }, { field: 'class', value: 'NotSpam' }] }));
await timed('three fields any (sender, recipient, IP)', () => ({ match: 'any', mode: 'exact', conditions: [
  { field: 'sender', value: pick(senders) }, { field: 'recipient', value: pick(recipients) }, { field: 'clientIp', value: pick(clientIps) }] }));
await timed('domain admin: status quarantined in one domain', () => one({ field: 'status', value: 'quarantined' }), (q) => ({ ...q, scope: { domains: [pick(DOMAINS)] } }));
await timed('time range (one day, 3 days ago), no field', () => ({ conditions: [], match: 'all', mode: 'exact', since: end - 4 * 86_400_000, until: end - 3 * 86_400_000 }));

// ---- statistics: a year of counters, read by day and by month ----
const stats = await Stats.open(store, { zoneOf: (owner) => (owner.endsWith('0.example') ? 'America/New_York' : 'Asia/Tokyo'), flushMs: 3_600_000 });
const YEAR = Date.UTC(2025, 0, 1);
for (let h = 0; h < 365 * 24; h++) {
  for (const [di, d] of DOMAINS.entries()) {
    // Senders, clients and scores vary, so the day summaries of the top-N tables fill up.
    const k = h * 20 + di;
    stats.answered({ id: `s${h}`, receivedAt: YEAR + h * 3_600_000, direction: 'inbound', mailFrom: senders[(k * 7919) % senders.length], size: 3000, attempts: [], status: 'delivered',
      client: { ip: clientIps[(k * 104_729) % clientIps.length], hostname: 'h', helo: 'h', tls: true },
      findings: { spam: { score: (k * 37) % 101 } },
      recipients: [{ address: `u${k % 150}@${d}`, original: `u${k % 150}@${d}`, status: 'delivered', mainClass: h % 10 ? 'Not Spam' : 'Spam' }] });
  }
  if (h % 24 === 23) await stats.flush();
}
const statistics = statisticsProvider(stats);
const statsTimed = async (label: string, q: Omit<Parameters<typeof statistics.series>[0], 'period'>, period: 'year') => {
  const times: number[] = [];
  let points = 0;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    points = (await statistics.series({ ...q, period, date: { year: 2025, month: 6, day: 1 } })).points.length;
    times.push(performance.now() - t0);
  }
  console.log(`  ${label.padEnd(46)} p50 ${ms(pct(times, 50)).padStart(10)}  p95 ${ms(pct(times, 95)).padStart(10)}  (${points} points)`);
};
console.log('\nstatistics of a year (20 domains, one message per domain and hour):');
await statsTimed('whole appliance, year by day', { scope: { all: true }, step: 'day' }, 'year');
await statsTimed('whole appliance, year by month', { scope: { all: true } }, 'year');
await statsTimed('domain admin of 5 domains, year by day', { scope: { domains: DOMAINS.slice(0, 5) }, step: 'day' }, 'year');
const tableTimed = async (label: string, read: () => Promise<unknown>) => {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await read();
    times.push(performance.now() - t0);
  }
  console.log(`  ${label.padEnd(46)} p50 ${ms(pct(times, 50)).padStart(10)}  p95 ${ms(pct(times, 95)).padStart(10)}`);
};
const yearQ = { period: 'year' as const, date: { year: 2025, month: 6, day: 1 } };
await tableTimed('top 20 senders, whole appliance, a year', () => statistics.top({ scope: { all: true }, ...yearQ, kind: 'sender', limit: 20 }));
await tableTimed('top 20 client IPs, one domain, a year', () => statistics.top({ scope: { all: true }, domain: DOMAINS[3], ...yearQ, kind: 'clientIp', limit: 20 }));
await tableTimed('spam-score histogram, whole appliance, a year', () => statistics.scores({ scope: { all: true }, ...yearQ }));
await stats.close();

// ---- CSV export ----
const provider = messageLogProvider(log);
let rows = 0;
let peakRss = process.memoryUsage().rss;
const rssBefore = peakRss;
const exportStart = performance.now();
async function* pages(): AsyncGenerator<string[][]> {
  let after: string | undefined;
  do {
    const page = await provider.search({ scope: { all: true }, fields: {}, match: 'all', mode: 'contains', limit: 500, after });
    const chunk = page.items.slice(0, EXPORT_ROWS - rows).map((i) => [i.receivedAt, i.id, i.sender, i.recipients.map((r) => r.address).join(' '), i.subject, i.status, i.delivery?.reply ?? '']);
    rows += chunk.length;
    yield chunk;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    after = rows < EXPORT_ROWS ? page.resume : undefined;
  } while (after !== undefined);
}
let csvBytes = 0;
for await (const text of csvStream(['receivedAt', 'id', 'sender', 'recipients', 'subject', 'status', 'deliveryStatus'], pages())) csvBytes += Buffer.byteLength(text);
const exportSeconds = (performance.now() - exportStart) / 1000;

await store.close();
const size = await dirBytes(path.join(dataDir, 'db'));
console.log(`\nCSV export: ${rows} rows, ${(csvBytes / 1e6).toFixed(1)} MB in ${exportSeconds.toFixed(2)} s = ${Math.round(rows / exportSeconds)} rows/s; peak RSS ${(peakRss / 1e6).toFixed(0)} MB (${((peakRss - rssBefore) / 1e6).toFixed(0)} MB above the level before the export)`);
const perFilled = Math.max(1, filledNow);
const perSampled = Math.max(1, sampled);
console.log(`store: ${(size / 1e6).toFixed(0)} MB on disk for ${filled} records = ${((size / filled) * 1e6 / 1e9).toFixed(2)} GB per million records` +
  (sampled ? ` (raw, 1 record in ${SAMPLE} of this run: records ${(recordBytes / perSampled).toFixed(0)} B, index ${(indexBytes / perSampled).toFixed(0)} B in ${(indexKeyCount / perSampled).toFixed(1)} keys per record)` : ''));
console.log(`insert: bulk fill of ${filledNow} records at ${Math.round(filledNow / fillSeconds)} records/s (${((fillSeconds / perFilled) * 1e6).toFixed(0)} µs each, unsynced batches);` +
  ` one synced write p50 ${ms(pct(single.indexed, 50))} with index keys vs ${ms(pct(single.alone, 50))} the record alone (p95 ${ms(pct(single.indexed, 95))} vs ${ms(pct(single.alone, 95))})`);
if (!a.data) await rm(dataDir, { recursive: true, force: true });
