// The one SMTP probe (the recipient callout's and the console's route check's): multi-line replies,
// a stop at the first refusal with QUIT, a server that hangs up, and a port nobody listens on — all
// answered as values, against scripted servers on loopback.
import test from 'ava';
import net from 'node:net';
import { once } from 'node:events';
import { probeSmtp } from '../../appliance/delivery/smtp-probe.ts';

/** A server that answers each line it reads with the next scripted reply; records what it heard. */
async function scripted(t: { teardown(f: () => void): void }, greeting: string, replies: (string | null)[]) {
  const heard: string[] = [];
  let quit!: () => void;
  const quitHeard = new Promise<void>((r) => { quit = r; });
  const server = net.createServer((s) => {
    s.write(greeting);
    let buffered = '';
    s.on('data', (d) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\r\n')) >= 0) {
        heard.push(buffered.slice(0, nl));
        if (heard.at(-1) === 'QUIT') quit();
        buffered = buffered.slice(nl + 2);
        const reply = replies.shift();
        if (reply === null) { s.destroy(); return; }
        if (reply) s.write(reply);
      }
    });
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  return { port: (server.address() as net.AddressInfo).port, heard, quitHeard };
}

test('replies are read whole, multi-line ones too, and the probe ends with QUIT', async (t) => {
  const s = await scripted(t, '220-mx.test ESMTP\r\n220 ready\r\n', ['250-mx.test\r\n250-SIZE 1000\r\n250 8BITMIME\r\n', '250 ok\r\n', '250 2.1.5 ok\r\n', '221 bye\r\n']);
  const out = await probeSmtp('127.0.0.1', s.port, ['EHLO probe.test', 'MAIL FROM:<>', 'RCPT TO:<a@mx.test>'], { timeoutMs: 10_000 });
  t.true(out.ok);
  if (!out.ok) return;
  t.deepEqual(out.greeting, { code: 220, lines: ['220-mx.test ESMTP', '220 ready'] });
  t.deepEqual(out.replies.map((r) => r.code), [250, 250, 250]);
  t.deepEqual(out.replies[0].lines, ['250-mx.test', '250-SIZE 1000', '250 8BITMIME']);
  await s.quitHeard;
  t.deepEqual(s.heard, ['EHLO probe.test', 'MAIL FROM:<>', 'RCPT TO:<a@mx.test>', 'QUIT']);
});

test('the first refusal stops the dialogue', async (t) => {
  const s = await scripted(t, '220 ready\r\n', ['250 hi\r\n', '451 4.3.0 try later\r\n', '221 bye\r\n']);
  const out = await probeSmtp('127.0.0.1', s.port, ['EHLO probe.test', 'MAIL FROM:<>', 'RCPT TO:<a@mx.test>'], { timeoutMs: 10_000 });
  t.true(out.ok);
  if (out.ok) t.deepEqual(out.replies.map((r) => r.lines.at(-1)), ['250 hi', '451 4.3.0 try later']);
});

test('a server that hangs up, and a port nobody listens on, are failures with what came before', async (t) => {
  const s = await scripted(t, '220 ready\r\n', [null]);
  const closed = await probeSmtp('127.0.0.1', s.port, ['EHLO probe.test'], { timeoutMs: 10_000 });
  t.like(closed, { ok: false, greeting: { code: 220 }, failure: { kind: 'closed' } });
  const free = net.createServer();
  free.listen(0, '127.0.0.1');
  await once(free, 'listening');
  const port = (free.address() as net.AddressInfo).port;
  await new Promise((r) => free.close(r));
  const refused = await probeSmtp('127.0.0.1', port, ['EHLO probe.test'], { timeoutMs: 10_000 });
  t.false(refused.ok);
  if (!refused.ok && refused.failure.kind === 'error') t.is(refused.failure.error.code, 'ECONNREFUSED');
  else t.fail(`expected a connection error, got ${JSON.stringify(refused)}`);
});
