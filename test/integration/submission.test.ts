// The submission listener (outbound filtering path): who may relay (client networks, AUTH only
// after STARTTLS), and where relayed mail goes (the recipient domain's MX from a real DNS server
// on loopback, or a configured smarthost).
import test from 'ava';
import { hashPassword } from '../../appliance/smtp/relay-auth.ts';
import { deliverAll } from '../../appliance/accept/message-filter.ts';
import { message, startTestAppliance } from '../helpers/appliance.ts';
import { startDnsServer } from '../helpers/dns-server.ts';
import { rawSession, sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';

test('a client outside relay.networks without AUTH cannot relay, even to a served domain', async (t) => {
  const a = await startTestAppliance({ domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: 9 }] }], relay: { networks: ['192.0.2.0/24'] } }, { filter: deliverAll });
  t.teardown(() => a.cleanup());
  const sent = await sendMail({ port: a.submission, from: 'x@example.com', to: ['someone@foreign.test'], raw: message() });
  t.is(sent.code, 530);
  t.regex(sent.response, /5\.7\.0 Authentication required/);
});

test('AUTH is offered only after STARTTLS; an authenticated user relays through MX found in DNS', async (t) => {
  const mx = await startSink();
  const dns = await startDnsServer({
    'foreign.test': { MX: [{ exchange: 'mx1.foreign.test', priority: 10 }] },
    'mx1.foreign.test': { A: ['127.0.0.1'] },
  });
  const a = await startTestAppliance({
    domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: 9 }] }],
    relay: { networks: [], users: [{ username: 'app', passwordHash: await hashPassword('s3cret-pass') }], resolver: [dns.address], mxPort: mx.port },
  }, { filter: deliverAll });
  t.teardown(async () => { await a.cleanup(); await mx.stop(); await dns.close(); });

  const plain = await rawSession(a.submission, ['EHLO c', 'AUTH PLAIN AGFwcABzM2NyZXQtcGFzcw==', 'QUIT']);
  t.notRegex(plain[1], /AUTH/, 'AUTH is not advertised before STARTTLS');
  t.regex(plain[2], /^5\d\d /, 'and refused if tried');

  const wrong = await sendMail({ port: a.submission, from: 'app@example.com', to: ['friend@foreign.test'], raw: message(), tls: 'starttls', auth: { user: 'app', pass: 'nope' } });
  t.is(wrong.code, 535);

  const sent = await sendMail({ port: a.submission, from: 'app@example.com', to: ['friend@foreign.test'], raw: message({ subject: 'outbound' }), tls: 'starttls', auth: { user: 'app', pass: 's3cret-pass' } });
  t.true(sent.ok, sent.response);
  const [got] = await mx.waitFor(1);
  t.deepEqual(got.to, ['friend@foreign.test']);
  t.regex(got.raw.toString(), /with ESMTPSA/);
  t.true(dns.queries.some((q) => q.name === 'foreign.test' && q.type === 'MX'));
  const id = /queued as (\w+)/.exec(sent.response)![1];
  const record = await a.app.log.get(id);
  t.is(record?.direction, 'outbound');
  t.is(record?.client?.authUser, 'app');
});

test('a permitted network relays through the smarthost when one is configured', async (t) => {
  const smarthost = await startSink();
  const a = await startTestAppliance({
    domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: 9 }] }],
    relay: { networks: ['127.0.0.0/8'], smarthost: { host: '127.0.0.1', port: smarthost.port, tls: 'none' } },
  }, { filter: deliverAll });
  t.teardown(async () => { await a.cleanup(); await smarthost.stop(); });
  const sent = await sendMail({ port: a.submission, from: 'app@example.com', to: ['a@foreign.test', 'b@other.test'], raw: message() });
  t.true(sent.ok, sent.response);
  const got = await smarthost.waitFor(1);
  t.deepEqual(got.flatMap((m) => m.to).sort(), ['a@foreign.test', 'b@other.test']);
  // The inbound port still refuses to relay for the same client.
  const inbound = await sendMail({ port: a.inbound, from: 'app@example.com', to: ['a@foreign.test'], raw: message() });
  t.is(inbound.code, 550);
});

test('a domain with a null MX bounces at once; one without MX records is tried at its A record', async (t) => {
  const sink = await startSink();
  const dns = await startDnsServer({
    'nomail.test': { MX: [{ exchange: '', priority: 0 }] },
    'plain.test': { A: ['127.0.0.1'] },
  });
  const a = await startTestAppliance({
    domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: sink.port }] }],
    relay: { networks: ['127.0.0.0/8'], resolver: [dns.address], mxPort: sink.port },
  }, { filter: deliverAll });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); await dns.close(); });
  const sent = await sendMail({ port: a.submission, from: 'app@example.com', to: ['x@nomail.test', 'y@plain.test'], raw: message() });
  t.true(sent.ok, sent.response);
  const got = await sink.waitFor(2);
  const bounce = got.find((m) => m.from === '');
  t.truthy(bounce);
  t.deepEqual(bounce!.to, ['app@example.com']);
  t.regex(bounce!.raw.toString(), /null MX/);
  t.deepEqual(got.find((m) => m.from === 'app@example.com')?.to, ['y@plain.test']);
});
