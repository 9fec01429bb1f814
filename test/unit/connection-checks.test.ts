// The DNS-list and HELO/reverse-DNS checks against a real DNS server on loopback, through the
// appliance's DNS cache: listings by 127.0.0.x answers and their weights, the error answer that is
// no listing, a zone that never answers (left out at the deadline, named), and each HELO/rDNS finding.
import test from 'ava';
import Value from 'typebox/value';
import { ClientCheckSettings, DnsListSettings } from '../../appliance/config/schema.ts';
import { createCachingResolver } from '../../appliance/dns/cache.ts';
import { checkClient, heloAddress } from '../../appliance/smtp/client-checks.ts';
import { checkDnsLists, listQueryName } from '../../appliance/smtp/dns-lists.ts';
import { withConnection } from '../../appliance/pipeline/connection.ts';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.ts';

let dns: DnsServer;
test.before(async () => {
  dns = await startDnsServer({
    // 192.0.2.10: on both blocklists; 192.0.2.11: on one, and on the allowlist; 192.0.2.12: an error answer only.
    '10.2.0.192.bl-one.test': { A: ['127.0.0.2'] },
    '10.2.0.192.bl-two.test': { A: ['127.0.0.4', '127.0.0.10'] },
    '11.2.0.192.bl-one.test': { A: ['127.0.0.2'] },
    '11.2.0.192.wl.test': { A: ['127.0.2.3'] },
    '12.2.0.192.bl-one.test': { A: ['127.255.255.254'] },
    '10.2.0.192.slow.test': { silent: true },
    '11.2.0.192.slow.test': { silent: true },
    // Reverse DNS: .20 confirmed, .21 pointing at a name elsewhere, .22 none, .23 a name that never answers.
    '20.2.0.192.in-addr.arpa': { PTR: ['mail.good.test'] },
    'mail.good.test': { A: ['192.0.2.20'] },
    '21.2.0.192.in-addr.arpa': { PTR: ['dyn-21.isp.test'] },
    'dyn-21.isp.test': { A: ['203.0.113.21'] },
    '23.2.0.192.in-addr.arpa': { PTR: ['slow.isp.test'] },
    'slow.isp.test': { silent: true },
  });
});
test.after.always(async () => { await dns?.close(); });

const lists = (over: Partial<DnsListSettings>): DnsListSettings => ({ ...Value.Default(DnsListSettings, {}) as DnsListSettings, ...over });
const zones = [
  { zone: 'bl-one.test', weight: 30, answers: [] },
  { zone: 'bl-two.test', weight: 25, answers: ['127.0.0.4'] },
  { zone: 'wl.test', weight: -40, answers: [] },
];

test('query names: reversed octets, or nibbles for IPv6', (t) => {
  t.is(listQueryName('192.0.2.10', 'bl.test'), '10.2.0.192.bl.test');
  t.is(listQueryName('::ffff:192.0.2.10', 'bl.test'), '10.2.0.192.bl.test');
  t.is(listQueryName('2001:db8::1', 'bl.test'), `1.0.0.0.${'0.'.repeat(20)}8.b.d.0.1.0.0.2.bl.test`);
});

test('listings add their weights; only the zone\'s answers count; an error answer is no listing', async (t) => {
  const resolve = createCachingResolver(dns.resolver, { maxSeconds: 300 }).resolve;
  const cfg = lists({ zones, timeoutMs: 5000 });
  t.deepEqual(await checkDnsLists('192.0.2.10', cfg, resolve), {
    hits: [{ zone: 'bl-one.test', weight: 30, answers: ['127.0.0.2'] }, { zone: 'bl-two.test', weight: 25, answers: ['127.0.0.4'] }],
    unanswered: [], score: 55,
  });
  t.deepEqual(await checkDnsLists('192.0.2.11', cfg, resolve), {
    hits: [{ zone: 'bl-one.test', weight: 30, answers: ['127.0.0.2'] }, { zone: 'wl.test', weight: -40, answers: ['127.0.2.3'] }],
    unanswered: [], score: -10,
  });
  t.deepEqual(await checkDnsLists('192.0.2.12', cfg, resolve), { hits: [], unanswered: [], score: 0 });
});

test('a zone that does not answer is left out at the deadline and named; the others still count', async (t) => {
  const resolve = createCachingResolver(dns.resolver, { maxSeconds: 300 }).resolve;
  const result = await checkDnsLists('192.0.2.11', lists({ zones: [{ zone: 'slow.test', weight: 50, answers: [] }, ...zones], timeoutMs: 3000 }), resolve);
  t.deepEqual(result.unanswered, ['slow.test']);
  t.deepEqual(result.hits.map((h) => h.zone), ['bl-one.test', 'wl.test']);
  t.is(result.score, -10);
});

test('answers are cached: the second check asks the server nothing', async (t) => {
  const cache = createCachingResolver(dns.resolver, { maxSeconds: 300 });
  const cfg = lists({ zones, timeoutMs: 5000 });
  const first = await checkDnsLists('192.0.2.10', cfg, cache.resolve);
  const asked = dns.queries.length;
  t.deepEqual(await checkDnsLists('192.0.2.10', cfg, cache.resolve), first);
  t.is(dns.queries.length, asked);
  t.true(cache.hits() >= 3);
});

const checks = Value.Default(ClientCheckSettings, {}) as ClientCheckSettings;
const client = (ip: string, helo: string) => checkClient({ ip, helo }, checks, {
  resolve: createCachingResolver(dns.resolver, { maxSeconds: 300 }).resolve, ourNames: ['mx.mailmoat.test', 'example.com'], timeoutMs: 3000,
});
const names = async (p: ReturnType<typeof client>) => (await p).map((r) => `${r.name}(${r.contribution})`);

test('reverse DNS: none, not resolving back, confirmed; a name that does not answer proves nothing', async (t) => {
  t.deepEqual(await names(client('192.0.2.20', 'mail.good.test')), []);
  t.deepEqual(await names(client('192.0.2.21', 'dyn-21.isp.test')), [`RDNS_MISMATCH(${checks.ptrMismatch})`]);
  t.deepEqual(await names(client('192.0.2.22', 'host.test')), [`RDNS_NONE(${checks.noPtr})`]);
  t.deepEqual(await names(client('192.0.2.23', 'host.test')), []);
});

test('HELO: an address literal not the client\'s, our own name; loopback clients are not asked about PTR', async (t) => {
  t.deepEqual(await names(client('192.0.2.20', '[192.0.2.99]')), [`HELO_IP_NOT_CLIENT(${checks.heloForeignIp})`]);
  t.deepEqual(await names(client('192.0.2.20', '[192.0.2.20]')), []);
  t.deepEqual(await names(client('192.0.2.20', 'MX.mailmoat.test')), [`HELO_OUR_NAME(${checks.heloOurName})`]);
  t.deepEqual(await names(client('192.0.2.20', 'example.com')), [`HELO_OUR_NAME(${checks.heloOurName})`]);
  const asked = dns.queries.length;
  t.deepEqual(await names(client('127.0.0.1', '[127.0.0.2]')), [`HELO_IP_NOT_CLIENT(${checks.heloForeignIp})`]);
  t.is(dns.queries.length, asked);
  t.is(heloAddress('[IPv6:2001:DB8::1]'), '2001:db8::1');
  t.is(heloAddress('mail.example.com'), undefined);
});

test('connection findings add their points to the score (bounded 0–100) and join its reasons; no score, nothing added', (t) => {
  const spam = { score: 40, classHint: 'Not Spam' as const, reasons: [{ name: 'BAYES', contribution: 10 }] };
  const connection = { reasons: [{ name: 'DNSBL:bl-one.test', contribution: 30 }, { name: 'RDNS_NONE', contribution: 5 }], unanswered: [] };
  t.deepEqual(withConnection(spam, connection), { ...spam, score: 75, reasons: [...spam.reasons, ...connection.reasons] });
  t.is(withConnection({ ...spam, score: 90 }, connection).score, 100);
  t.is(withConnection(spam, { reasons: [{ name: 'DNSWL:wl.test', contribution: -60 }], unanswered: [] }).score, 0);
  const unscored = { score: 0, classHint: 'Unknown' as const, reasons: [] };
  t.is(withConnection(unscored, connection), unscored);
  t.is(withConnection(spam, undefined), spam);
});
