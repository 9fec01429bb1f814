// SMTP AUTH brute-force limits (smtp/auth-limits.ts) with a fake clock and a recorded tarpit:
// per connection, per client (IPv4 address, IPv6 /64), per user name with the exemption for
// clients the user logged in from, growing delays, the log and the SNMP counter; and the same
// scrypt work for unknown user names (smtp/relay-auth.ts).
import test from 'ava';
import { AuthLimits } from '../../appliance/smtp/auth-limits.ts';
import { addressGroup } from '../../appliance/smtp/client-limits.ts';
import { hashPassword, relayLogin, verifyPassword } from '../../appliance/smtp/relay-auth.ts';
import type { AuthLimitSettings } from '../../appliance/config/schema.ts';

const SETTINGS: AuthLimitSettings = { failuresPerConnection: 3, failuresPerClient: 10, failuresPerUser: 30, windowMinutes: 15, delayMs: 500, maxDelayMs: 8000 };

function limits(overrides: Partial<AuthLimitSettings> = {}) {
  const lines: string[] = [];
  const delays: number[] = [];
  const l = new AuthLimits(() => ({ ...SETTINGS, ...overrides }), { say: (line) => lines.push(line), sleep: async (ms) => { delays.push(ms); } });
  return { l, lines, delays };
}
const wrong = async () => null;
const right = async () => 'app';

test('a connection is closed (421) at its third failed AUTH; another connection may still log in', async (t) => {
  const { l } = limits();
  const conn = {};
  t.like(await l.attempt(conn, '192.0.2.1', 'app', wrong), { ok: false, code: 535 });
  t.like(await l.attempt(conn, '192.0.2.1', 'app', wrong), { ok: false, code: 535 });
  const third = await l.attempt(conn, '192.0.2.1', 'app', wrong);
  t.like(third, { ok: false, code: 421 });
  t.regex(third.ok ? '' : third.message, /^4\.7\.0 .*closing/);
  // Another connection from the same client still may log in (3 failures are under the client's 10).
  t.deepEqual(await l.attempt({}, '192.0.2.1', 'app', right), { ok: true, user: 'app' });
});

test('a client past its failures in the window gets 454 without its password being checked, until the window passes', async (t) => {
  const { l, lines } = limits();
  const t0 = Date.parse('2026-11-30T00:00:00Z');
  for (let i = 0; i < 10; i++) await l.attempt({}, '198.51.100.7', `user${i}`, wrong, t0 + i);
  let checked = false;
  const blocked = await l.attempt({}, '198.51.100.7', 'app', async () => { checked = true; return 'app'; }, t0 + 1000);
  t.like(blocked, { ok: false, code: 454 });
  t.regex(blocked.ok ? '' : blocked.message, /^4\.7\.0 Too many failed logins from your address, try again in 15 min/);
  t.false(checked, 'the right password does not get in while the client is shut out');
  t.true(lines.some((line) => /SMTP AUTH from 198\.51\.100\.7\/32 refused for 15 min after 10 failures/.test(line)), lines.join('\n'));
  // Another client is not affected; the same one is let in once the window has passed.
  t.true((await l.attempt({}, '198.51.100.8', 'app', right, t0 + 1000)).ok);
  t.true((await l.attempt({}, '198.51.100.7', 'app', right, t0 + 15 * 60_000 + 10)).ok);
  t.is(l.failures, 11, 'every refused attempt is counted for SNMP');
});

test('an IPv6 client is one /64: changing the last 64 bits does not reset its count', async (t) => {
  const { l } = limits({ failuresPerClient: 3 });
  for (const ip of ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:ffff:ffff:ffff:ffff']) await l.attempt({}, ip, 'x', wrong);
  t.like(await l.attempt({}, '2001:db8:1:2:abcd::9', 'app', right), { ok: false, code: 454 });
  t.true((await l.attempt({}, '2001:db8:1:3::1', 'app', right)).ok, 'the next /64 is another client');
  t.is(addressGroup('::ffff:192.0.2.77', 24, 64), '192.0.2.0/24');
  t.is(addressGroup('2001:db8:a:b:c:d:e:f', 32, 64), '2001:db8:a:b:0:0:0:0/64');
  t.is(addressGroup('2001:db8:a:b:c:d:e:f', 32, 48), '2001:db8:a:0:0:0:0:0/48');
});

test('a user name past its failures from many clients is shut out, except from a client it logged in from before', async (t) => {
  const { l, lines } = limits({ failuresPerUser: 5 });
  t.true((await l.attempt({}, '203.0.113.5', 'App', right)).ok, 'the application logs in from its usual address');
  for (let i = 0; i < 5; i++) await l.attempt({}, `192.0.2.${i + 10}`, 'app', wrong);
  t.like(await l.attempt({}, '192.0.2.99', 'app', right), { ok: false, code: 454 }, 'a new client cannot log in as that user');
  t.true((await l.attempt({}, '203.0.113.5', 'app', right)).ok, 'the application itself is not locked out by the attack');
  t.true(lines.some((line) => /SMTP AUTH as "app" refused for 15 min after 5 failures/.test(line)), lines.join('\n'));
});

test('each failure is answered after a delay that doubles with the failures counted, up to the maximum', async (t) => {
  const { l, delays, lines } = limits({ failuresPerConnection: 100, failuresPerClient: 100 });
  const conn = {};
  for (let i = 0; i < 7; i++) await l.attempt(conn, '192.0.2.1', 'app', wrong);
  t.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 8000, 8000]);
  t.is(lines.filter((line) => /SMTP AUTH failed for "app" from 192\.0\.2\.1/.test(line)).length, 7);
  await l.attempt(conn, '192.0.2.1', 'app', right);
  t.is(delays.length, 7, 'a successful login is not delayed');
});

test('an unknown user name costs the same scrypt verification as a known one', async (t) => {
  const users = [{ username: 'app', passwordHash: await hashPassword('s3cret-pass') }];
  const verified: string[] = [];
  const spy = async (password: string, stored: string) => { verified.push(stored); return verifyPassword(password, stored); };
  t.is(await relayLogin(users, 'app', 's3cret-pass', spy), 'app');
  t.is(await relayLogin(users, 'app', 'wrong', spy), null);
  t.is(await relayLogin(users, 'nobody', 'wrong', spy), null);
  t.is(verified.length, 3, 'the unknown name was verified too');
  const [, n, r, p] = verified[2].split('$');
  t.deepEqual([n, r, p], verified[0].split('$').slice(1, 4), 'against a hash with the same scrypt parameters');
});
