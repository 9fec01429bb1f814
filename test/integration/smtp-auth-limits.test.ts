// SMTP AUTH brute force over real SMTP (STARTTLS on the submission listener): a connection is
// closed at its third wrong password, a client past its failures cannot log in even with the right
// password, and the failures reach the log and the SNMP counter.
import test from 'ava';
import { deliverAll } from '../../appliance/accept/message-filter.ts';
import { hashPassword } from '../../appliance/smtp/relay-auth.ts';
import { startTestAppliance } from '../helpers/appliance.ts';
import { smtpDialog } from '../helpers/smtp-client.ts';

const tlsSession = (port: number) => smtpDialog(port, { starttls: true });
const plain = (user: string, pass: string) => `AUTH PLAIN ${Buffer.from(`\0${user}\0${pass}`).toString('base64')}`;

test('wrong passwords: 421 and a closed connection at the third; past the client limit even the right password gets 454; counted and logged', async (t) => {
  const lines: string[] = [];
  const a = await startTestAppliance({
    domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: 9 }] }],
    relay: { networks: [], users: [{ username: 'app', passwordHash: await hashPassword('s3cret-pass') }] },
    limits: { auth: { failuresPerClient: 5, delayMs: 1, maxDelayMs: 1 } },
  }, { filter: deliverAll, say: (line) => lines.push(line) });
  t.teardown(() => a.cleanup());

  const first = await tlsSession(a.submission);
  t.regex(await first.send(plain('app', 'guess1')), /^535 /);
  t.regex(await first.send(plain('nobody', 'guess2')), /^535 /);
  t.regex(await first.send(plain('app', 'guess3')), /^421 4\.7\.0 .*closing/);
  t.is(await first.send(plain('app', 's3cret-pass')), '(closed)', 'the right password never gets a hearing on that connection');
  t.true(first.closed);

  // A fresh connection may still log in: 3 failures are under the client's 5.
  const second = await tlsSession(a.submission);
  t.regex(await second.send(plain('app', 's3cret-pass')), /^235 /);
  second.end();

  const third = await tlsSession(a.submission);
  t.regex(await third.send(plain('app', 'guess4')), /^535 /);
  t.regex(await third.send(plain('app', 'guess5')), /^535 /);
  third.end();
  const fourth = await tlsSession(a.submission);
  t.regex(await fourth.send(plain('app', 's3cret-pass')), /^454 4\.7\.0 Too many failed logins from your address/);
  fourth.end();

  t.is(a.app.authLimits.failures, 6, 'what SNMP shows as mmAuthFailures');
  t.true(lines.some((l) => /SMTP AUTH failed for "nobody" from 127\.0\.0\.1/.test(l)), lines.join('\n'));
  t.true(lines.some((l) => /SMTP AUTH from 127\.0\.0\.1\/32 refused for 15 min after 5 failures/.test(l)), lines.join('\n'));
});
