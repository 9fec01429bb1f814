// The authentication stage against a real DNS server on loopback: SPF pass/fail/softfail, a DKIM
// signature made by the test and verified, DMARC with a reject policy, and the cache in front of DNS.
import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { sealMessage } from 'mailauth';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.ts';
import { authStage } from '../../appliance/pipeline/auth.ts';
import { createCachingResolver } from '../../appliance/dns/cache.ts';
import type { MessageContext, StageContext } from '../../appliance/pipeline/message-context.ts';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pubB64 = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const privPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

let dns: DnsServer;
test.before(async () => {
  dns = await startDnsServer({
    'good.test': { TXT: ['v=spf1 ip4:192.0.2.10 -all'] },
    'soft.test': { TXT: ['v=spf1 ip4:192.0.2.10 ~all'] },
    'cached.test': { TXT: ['v=spf1 ip4:192.0.2.10 -all'] },
    'signed.test': { TXT: ['v=spf1 ip4:192.0.2.10 -all'] },
    'sel1._domainkey.signed.test': { TXT: [`v=DKIM1; k=rsa; p=${pubB64}`] },
    '_dmarc.signed.test': { TXT: ['v=DMARC1; p=reject'] },
    'arc1._domainkey.forwarder.test': { TXT: [`v=DKIM1; k=rsa; p=${pubB64}`] },
    'bank.test': { TXT: ['v=spf1 ip4:192.0.2.99 -all'] },
    '_dmarc.bank.test': { TXT: ['v=DMARC1; p=reject'] },
  });
});
test.after.always(() => dns?.close());

function message(from: string, subject = 'hello'): Buffer {
  return Buffer.from(`From: <${from}>\r\nTo: <user@example.com>\r\nSubject: ${subject}\r\nMessage-ID: <1@x>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nbody text\r\n`);
}

function ctx(raw: Buffer, mailFrom: string, ip: string): StageContext {
  const msg: MessageContext = {
    id: 'q1', direction: 'inbound', receivedAt: Date.now(), spoolPath: '/nonexistent', size: raw.length,
    client: { ip, hostname: 'mx.sender.test', helo: 'mx.sender.test' }, mailFrom,
    recipients: [{ address: 'user@example.com', original: 'user@example.com', domain: 'example.com' }],
  };
  return { msg, raw, findings: { lists: {}, timings: {} } };
}

const opts = () => ({ resolver: dns.resolver, hostname: 'mailmoat.test', spfNg: ['fail'] });

test('SPF pass for an authorised client IP, with Received-SPF and Authentication-Results headers', async (t) => {
  const sc = ctx(message('a@good.test'), 'a@good.test', '192.0.2.10');
  await authStage(sc, opts());
  t.is(sc.findings.auth?.spf.result, 'pass');
  t.false(sc.findings.auth?.spf.ng);
  const names = sc.findings.auth!.headers.map(([n]) => n);
  t.true(names.includes('Received-SPF'));
  t.true(names.includes('Authentication-Results'));
  const ar = sc.findings.auth!.headers.find(([n]) => n === 'Authentication-Results')![1];
  t.regex(ar, /^mailmoat\.test;/);
  t.regex(ar, /spf=pass/);
});

test('SPF fail for another IP counts as NG', async (t) => {
  const sc = ctx(message('a@good.test'), 'a@good.test', '198.51.100.7');
  await authStage(sc, opts());
  t.is(sc.findings.auth?.spf.result, 'fail');
  t.true(sc.findings.auth?.spf.ng);
});

test('SPF softfail is NG only when configured so', async (t) => {
  const sc = ctx(message('a@soft.test'), 'a@soft.test', '198.51.100.7');
  await authStage(sc, opts());
  t.is(sc.findings.auth?.spf.result, 'softfail');
  t.false(sc.findings.auth?.spf.ng);
  const sc2 = ctx(message('a@soft.test'), 'a@soft.test', '198.51.100.7');
  await authStage(sc2, { ...opts(), spfNg: ['fail', 'softfail'] });
  t.true(sc2.findings.auth?.spf.ng);
});

test('a DKIM signature made by the test verifies and DMARC passes', async (t) => {
  const raw = message('news@signed.test');
  const signed = await dkimSign(raw, { signatureData: [{ signingDomain: 'signed.test', selector: 'sel1', privateKey: privPem }] } as Parameters<typeof dkimSign>[1]);
  t.is(signed.errors.length, 0);
  const full = Buffer.concat([Buffer.from(signed.signatures), raw]);
  const sc = ctx(full, 'news@signed.test', '198.51.100.7'); // SPF fails; DKIM alone aligns
  await authStage(sc, opts());
  t.deepEqual(sc.findings.auth?.dkim.map((d) => [d.result, d.domain, d.selector]), [['pass', 'signed.test', 'sel1']]);
  t.is(sc.findings.auth?.dmarc?.result, 'pass');
});

test('a tampered DKIM-signed message fails DKIM and DMARC under p=reject', async (t) => {
  const raw = message('news@signed.test');
  const signed = await dkimSign(raw, { signatureData: [{ signingDomain: 'signed.test', selector: 'sel1', privateKey: privPem }] } as Parameters<typeof dkimSign>[1]);
  const tampered = Buffer.concat([Buffer.from(signed.signatures), Buffer.from(raw.toString().replace('body text', 'changed text'))]);
  const sc = ctx(tampered, 'news@signed.test', '198.51.100.7');
  await authStage(sc, opts());
  t.not(sc.findings.auth?.dkim[0]?.result, 'pass'); // a body hash mismatch is "neutral" in lenient mode
  t.is(sc.findings.auth?.dmarc?.result, 'fail');
  t.is(sc.findings.auth?.dmarc?.policy, 'reject');
});

test('DMARC fails with p=reject for a forged From: domain', async (t) => {
  const sc = ctx(message('ceo@bank.test'), 'x@elsewhere.test', '198.51.100.7');
  await authStage(sc, opts());
  t.is(sc.findings.auth?.dmarc?.result, 'fail');
  t.is(sc.findings.auth?.dmarc?.policy, 'reject');
  t.is(sc.findings.auth?.fromDomain, 'bank.test');
});

test('DNS trouble is not a DMARC failure: SPF and DKIM temperror leave DMARC at temperror, not fail', async (t) => {
  const raw = message('news@signed.test');
  const signed = await dkimSign(raw, { signatureData: [{ signingDomain: 'signed.test', selector: 'sel1', privateKey: privPem }] } as Parameters<typeof dkimSign>[1]);
  const full = Buffer.concat([Buffer.from(signed.signatures), raw]);
  // The DMARC record answers (say, from the cache); the SPF and DKIM key lookups time out.
  const flaky = (name: string, rrtype: string) => (name === '_dmarc.signed.test'
    ? dns.resolver(name, rrtype)
    : Promise.reject(Object.assign(new Error(`queryTxt ESERVFAIL ${name}`), { code: 'ESERVFAIL' })));
  const sc = ctx(full, 'news@signed.test', '192.0.2.10');
  await authStage(sc, { ...opts(), resolver: flaky });
  t.is(sc.findings.auth?.spf.result, 'temperror');
  t.is(sc.findings.auth?.dkim[0]?.result, 'temperror');
  t.is(sc.findings.auth?.dmarc?.result, 'temperror');
  t.is(sc.findings.auth?.dmarc?.policy, 'reject');
});

test('the DNS cache answers repeated questions without asking the server again', async (t) => {
  const cache = createCachingResolver(dns.resolver, { maxSeconds: 3600 });
  const before = dns.queries.length;
  for (let i = 0; i < 3; i++) {
    const sc = ctx(message('a@cached.test'), 'a@cached.test', '192.0.2.10');
    await authStage(sc, { ...opts(), resolver: cache.resolve });
    t.is(sc.findings.auth?.spf.result, 'pass');
  }
  const asked = dns.queries.slice(before).filter((q) => q.name === 'cached.test' && q.type === 'TXT').length;
  t.is(asked, 1);
  t.true(cache.hits() >= 2);
});

test('an ARC seal added by a forwarder is verified', async (t) => {
  const raw = message('list@good.test');
  const seal = await sealMessage(raw, { signingDomain: 'forwarder.test', selector: 'arc1', privateKey: privPem, cv: 'none', authResults: 'forwarder.test; spf=pass smtp.mailfrom=good.test' });
  t.true(seal.length > 0);
  const sc = ctx(Buffer.concat([seal, raw]), 'list@good.test', '192.0.2.10');
  await authStage(sc, opts());
  t.is(sc.findings.auth?.arc.result, 'pass');
  const unsealed = ctx(raw, 'list@good.test', '192.0.2.10');
  await authStage(unsealed, opts());
  t.is(unsealed.findings.auth?.arc.result, 'none');
});
