// Connection admission (smtp/client-limits.ts): per address, per network (IPv4 /24, IPv6 /64),
// the reserve kept for trusted clients, places given back on disconnect; and the slow-DATA rule.
import test from 'ava';
import { validateConfig } from '../../appliance/config/validate.ts';
import { ClientLimits } from '../../appliance/smtp/client-limits.ts';
import { tooSlow } from '../../appliance/smtp/slow-clients.ts';

const defaults = validateConfig({ hostname: 'mx.example.test' });
if (!defaults.ok) throw new Error(JSON.stringify(defaults.problems));
const limits = { ...defaults.config.limits, maxConnections: 10, reservedConnectionsPercent: 20, maxConnectionsPerClient: 3, maxConnectionsPerNetwork: 4 };

test('an IPv6 /64 is one network: its addresses share the per-network limit; trusted clients are exempt', (t) => {
  const l = new ClientLimits();
  for (let i = 1; i <= 4; i++) t.is(l.admit(`2001:db8:1:2::${i}`, 1, limits, false), null);
  t.regex(l.admit('2001:db8:1:2:ffff::1', 1, limits, false) ?? '', /from your network/);
  t.is(l.admit('2001:db8:1:3::1', 1, limits, false), null, 'the next /64');
  t.is(l.admit('2001:db8:1:2::99', 1, limits, true), null, 'a trusted client is not held to the network limit');
  l.disconnect('2001:db8:1:2::1');
  l.disconnect('2001:db8:1:2::99');
  t.is(l.admit('2001:db8:1:2::5', 1, limits, false), null, 'a place given back can be taken again');
});

test('per address, IPv4-mapped addresses count as their IPv4 address and network', (t) => {
  const l = new ClientLimits();
  for (let i = 0; i < 3; i++) t.is(l.admit('::ffff:192.0.2.1', 1, limits, false), null);
  t.regex(l.admit('::ffff:192.0.2.1', 1, limits, false) ?? '', /from your address/);
  t.is(l.admit('192.0.2.2', 1, limits, false), null);
  t.regex(l.admit('192.0.2.3', 1, limits, false) ?? '', /from your network/, '192.0.2.0/24 has its 4');
});

test('the last 20 % of the slots are only for trusted clients', (t) => {
  const l = new ClientLimits();
  t.is(l.admit('192.0.2.1', 8, limits, false), null);
  t.regex(l.admit('198.51.100.1', 9, limits, false) ?? '', /Too many connections to this server/);
  t.is(l.admit('198.51.100.1', 9, limits, true), null);
  t.is(l.admit('198.51.100.2', 10, limits, true), null);
});

test('a message is too slow when its average rate since DATA began is below the minimum; 0 turns the rule off', (t) => {
  t.true(tooSlow(14_999, 30, 500));
  t.false(tooSlow(15_000, 30, 500));
  t.false(tooSlow(0, 30, 0));
});

test('a trusted network that does not parse is a configuration problem at its path', (t) => {
  const r = validateConfig({ hostname: 'mx.example.test', limits: { trustedNetworks: ['192.0.2.0/24', 'not-a-network'] } });
  t.false(r.ok);
  t.deepEqual(r.ok ? [] : r.problems.map((p) => p.path), ['/limits/trustedNetworks/1']);
});
