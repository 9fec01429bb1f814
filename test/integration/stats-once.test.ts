// Counting each message once over real SMTP: messages to two served domains are counted for each
// domain, and once for a domain admin's "all my domains" (counters, top senders, score histogram)
// and once in the box-wide quarantine size and the domain admin's; a message delivered with a tagged subject is recorded
// as tagged in its log record and counted as `tagged` per domain, for the set and box-wide (the
// figure SNMP's mmTagged reads), and shown in the statistics CSV.
import test from 'ava';
import { startTestAppliance, message } from '../helpers/appliance.ts';
import { injectClient, PASSWORD } from '../helpers/console-api.ts';
import { startDnsServer } from '../helpers/dns-server.ts';
import { sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';
import type { MessageLogRecord } from '../../appliance/logsearch/message-log.ts';


test('a message to two domains counts once for both together and box-wide; a tagged delivery is logged and counted', async (t) => {
  const dns = await startDnsServer({});
  const sink = await startSink();
  const a = await startTestAppliance({
    domains: [
      { name: 'a.example', routes: [{ host: '127.0.0.1', port: sink.port }] },
      { name: 'b.example', routes: [{ host: '127.0.0.1', port: sink.port }] },
    ],
    time: { timezone: 'UTC' },
    filtering: { antivirus: { enabled: false }, quarantineResponse: 'accept', rules: [{ class: 'Blacklisted', action: 'tag', tag: 'BLOCKED!!' }] },
  }, { console: true, resolver: dns.resolver, starterModel: true });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); await dns.close(); });
  const server = a.app.console!;
  await server.context.setup.complete('test');
  await server.context.users.create({ username: 'root', role: 'admin', password: PASSWORD, language: 'en' });
  await server.context.users.create({ username: 'dora', role: 'domain-admin', domains: ['a.example', 'b.example'], password: PASSWORD, language: 'en' });
  const { login, get: reply } = injectClient(server);
  const get = async (cookie: string, url: string) => {
    const res = await reply(cookie, url);
    t.is(res.status, 200, `${url}: ${res.body}`);
    return url.includes('/export') ? res.body : res.json();
  };

  for (const owner of ['a.example', 'b.example']) {
    await a.app.lists.add({ direction: 'inbound', kind: 'condition-quarantine', scope: 'domain', owner, field: 'subject', mode: 'partial', value: 'invoice' });
  }
  await a.app.lists.add({ direction: 'inbound', kind: 'sender-block', scope: 'domain', owner: 'b.example', value: 'tagme@sender.test' });
  const send = async (from: string, to: string[], subject: string) => {
    const sent = await sendMail({ port: a.inbound, from, to, raw: message({ from, to: to.join(', '), subject }) });
    t.is(sent.code, 250, sent.response);
  };
  await send('news@sender.test', ['carol@a.example', 'dave@b.example'], 'hello both');
  await send('news@sender.test', ['carol@a.example'], 'hello a');
  await send('news@sender.test', ['carol@a.example', 'dave@b.example'], 'invoice for both');
  await send('tagme@sender.test', ['dave@b.example'], 'tag me');
  // Deliveries: two copies of the first, one of the second, the tagged one.
  const delivered = await sink.waitFor(3);
  const tagged = delivered.find((m) => m.from === 'tagme@sender.test');
  t.regex(tagged!.raw.toString(), /^Subject: BLOCKED!! tag me\r$/m, 'delivered with the tag');

  const records: MessageLogRecord[] = [];
  for await (const r of a.app.log.newest()) records.push(r);
  t.is(records.length, 4);
  const tagRecord = records.find((r) => r.mailFrom === 'tagme@sender.test')!;
  t.like(tagRecord.recipients[0], { address: 'dave@b.example', mainClass: 'Blacklisted', tagged: true });
  t.true(records.filter((r) => r !== tagRecord).every((r) => r.recipients.every((x) => x.tagged === undefined)), 'only the tagged copy says so');

  // The counters: each domain counts its messages, the set and the box each message once.
  const root = await login('root');
  const dora = await login('dora');
  const totals = async (cookie: string, domain?: string) => (await get(cookie, `/api/stats?period=24h${domain ? `&domain=${domain}` : ''}`)).totals;
  const detail = await get(dora, `/api/messages/${tagRecord.id}`);
  t.like(detail.message.recipients[0], { address: 'dave@b.example', tagged: true }, 'the message log page says the copy was tagged');
  t.like(await totals(dora, 'a.example'), { received: 3, quarantined: 1, tagged: 0 });
  t.like(await totals(dora, 'b.example'), { received: 3, quarantined: 1, tagged: 1 });
  t.like(await totals(dora), { received: 4, quarantined: 1, tagged: 1 }, 'all of dora\'s domains: each message once');
  t.like(await totals(root), { received: 4, quarantined: 1, tagged: 1 });
  t.is(a.app.stats.totals().tagged, 1, 'the persistent total SNMP reads as mmTagged');
  const csv = String(await get(dora, '/api/stats/export?period=24h')).split('\r\n');
  const header = csv[0].split(',');
  t.is(csv.slice(1).filter(Boolean).reduce((sum, line) => sum + Number(line.split(',')[header.indexOf('tagged')]), 0), 1, 'the CSV has the tagged column');

  // The top senders and the score histogram, over each day the messages were received on (UTC).
  const days = [...new Set(records.map((r) => new Date(r.receivedAt).toISOString().slice(0, 10)))];
  const senders = async (cookie: string, domain?: string) => {
    const sum = new Map<string, number>();
    for (const date of days) {
      const top = await get(cookie, `/api/stats/top?period=day&date=${date}&kind=sender${domain ? `&domain=${domain}` : ''}`);
      for (const i of top.items as { value: string; count: number }[]) sum.set(i.value, (sum.get(i.value) ?? 0) + i.count);
    }
    return Object.fromEntries(sum);
  };
  t.deepEqual(await senders(dora, 'a.example'), { 'news@sender.test': 3 });
  t.deepEqual(await senders(dora, 'b.example'), { 'news@sender.test': 2, 'tagme@sender.test': 1 });
  t.deepEqual(await senders(dora), { 'news@sender.test': 3, 'tagme@sender.test': 1 }, 'a sender to both domains counts once for the set');
  t.deepEqual(await senders(root), { 'news@sender.test': 3, 'tagme@sender.test': 1 });
  const bins = async (cookie: string) => {
    const sum = new Array<number>(20).fill(0);
    for (const date of days) (await get(cookie, `/api/stats/scores?period=day&date=${date}`)).bins.forEach((n: number, i: number) => { sum[i] += n; });
    return sum;
  };
  const scored = records.filter((r) => (r.findings as { spam?: { score?: number } }).spam?.score !== undefined).length;
  t.true(scored >= 3, 'the starter model scored the messages');
  const boxBins = await bins(root);
  t.is(boxBins.reduce((x, y) => x + y, 0), scored);
  t.deepEqual(await bins(dora), boxBins, 'the set\'s histogram holds each scored message once, as the box\'s');

  // The quarantine: one message held for both domains is one message box-wide, one in each domain.
  const held = a.app.quarantine.usage('domain', 'a.example');
  t.is(held.messages, 1);
  const sample = a.app.gauges.sample();
  t.like(sample['*'], { quarantined: 1, quarantineBytes: held.bytes });
  t.like(sample['a.example'], { quarantined: 1, quarantineBytes: held.bytes });
  t.like(sample['b.example'], { quarantined: 1, quarantineBytes: held.bytes });
  // dora's domains together (the statistics followed her account): the message once, in the sample
  // and in what her statistics page reads; the sum of her domains would say 2.
  t.deepEqual(a.app.stats.readableSets(), [['a.example', 'b.example']]);
  t.like(sample['=a.example,b.example'], { quarantined: 1, quarantineBytes: held.bytes });
  type Point = { gauges?: { peak: { quarantined?: number } } };
  const peak = async (cookie: string, domain?: string) =>
    Math.max(...(await get(cookie, `/api/stats?period=24h${domain ? `&domain=${domain}` : ''}`)).points.map((p: Point) => p.gauges?.peak.quarantined ?? 0));
  t.is(await peak(dora), 1, 'all of dora\'s domains: the held message once');
  t.is(await peak(dora, 'a.example'), 1);
  t.is(await peak(root), 1);
});
