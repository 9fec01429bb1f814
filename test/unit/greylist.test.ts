// Greylisting's state machine over a real LevelDB store with a controllable clock: first attempt
// deferred, an early retry deferred again, a retry after the delay passes, a retry after the window
// starts over, the client network earns its automatic whitelist, and the sweep deletes what expired.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Value from 'typebox/value';
import { GreylistSettings } from '../../appliance/config/schema.ts';
import { Greylist } from '../../appliance/smtp/greylist.ts';
import { openStore } from '../../appliance/store/store.ts';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;

async function open(t: { teardown(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-greylist-'));
  const store = await openStore(dir);
  const clock = { now: Date.UTC(2026, 10, 30, 9) };
  const greylist = new Greylist(store, () => clock.now);
  t.teardown(async () => { await store.close(); await rm(dir, { recursive: true, force: true }); });
  return { greylist, clock };
}

const settings = (over: Partial<GreylistSettings> = {}): GreylistSettings => ({ ...Value.Default(GreylistSettings, {}) as GreylistSettings, enabled: true, ...over });

test('the defaults: five minutes, a day to retry, 36 days remembered, whitelisted after five passes', (t) => {
  t.like(Value.Default(GreylistSettings, {}) as GreylistSettings, { enabled: false, delaySeconds: 300, retryWindowHours: 24, passedDays: 36, autoWhitelistAfter: 5, skipSpfPass: false });
});

test('deferred until a retry after the delay, then known; another triplet is deferred on its own', async (t) => {
  const { greylist, clock } = await open(t);
  const cfg = settings();
  const triplet = { clientIp: '192.0.2.10', sender: 'a@sender.test', recipient: 'bob@example.com' };
  t.deepEqual(await greylist.check(triplet, cfg), { kind: 'defer', retryInSeconds: 300 });
  clock.now += 2 * MIN;
  t.deepEqual(await greylist.check(triplet, cfg), { kind: 'defer', retryInSeconds: 180 });
  clock.now += 3 * MIN;
  t.deepEqual(await greylist.check(triplet, cfg), { kind: 'pass', why: 'retried' });
  t.deepEqual(await greylist.check(triplet, cfg), { kind: 'pass', why: 'known' });
  // The same /24 counts as the same client (a sender's pool of outgoing servers).
  t.deepEqual(await greylist.check({ ...triplet, clientIp: '192.0.2.77' }, cfg), { kind: 'pass', why: 'known' });
  t.is((await greylist.check({ ...triplet, recipient: 'carol@example.com' }, cfg)).kind, 'defer');
  t.is((await greylist.check({ ...triplet, sender: '' }, cfg)).kind, 'defer');
  t.is((await greylist.check({ ...triplet, clientIp: '192.0.3.10' }, cfg)).kind, 'defer');
});

test('a retry after the window starts over; IPv6 clients count by /64', async (t) => {
  const { greylist, clock } = await open(t);
  const cfg = settings({ delaySeconds: 60, retryWindowHours: 1 });
  const triplet = { clientIp: '2001:db8:1:2::25', sender: 'a@sender.test', recipient: 'bob@example.com' };
  t.is((await greylist.check(triplet, cfg)).kind, 'defer');
  clock.now += 61 * MIN;
  t.deepEqual(await greylist.check(triplet, cfg), { kind: 'defer', retryInSeconds: 60 });
  clock.now += 2 * MIN;
  t.deepEqual(await greylist.check({ ...triplet, clientIp: '2001:db8:1:2:ffff::1' }, cfg), { kind: 'pass', why: 'retried' });
  t.is((await greylist.check({ ...triplet, clientIp: '2001:db8:1:3::25' }, cfg)).kind, 'defer');
});

test('a client network whose retries passed N times is whitelisted; the sweep deletes expired records', async (t) => {
  const { greylist, clock } = await open(t);
  const cfg = settings({ autoWhitelistAfter: 2, passedDays: 10 });
  const pass = async (recipient: string) => {
    const triplet = { clientIp: '198.51.100.7', sender: 'news@sender.test', recipient };
    t.is((await greylist.check(triplet, cfg)).kind, 'defer');
    clock.now += 5 * MIN;
    t.deepEqual(await greylist.check(triplet, cfg), { kind: 'pass', why: 'retried' });
  };
  await pass('a@example.com');
  t.is((await greylist.check({ clientIp: '198.51.100.7', sender: 'x@sender.test', recipient: 'z@example.com' }, cfg)).kind, 'defer');
  await pass('b@example.com');
  t.deepEqual(await greylist.check({ clientIp: '198.51.100.9', sender: 'y@other.test', recipient: 'c@example.com' }, cfg), { kind: 'pass', why: 'whitelisted client' });

  // Records: 2 passed triplets, 1 pending (x→z, expires after the 24 h window), the client network.
  t.is(await greylist.size(), 4);
  t.is(await greylist.sweep(), 0);
  clock.now += 2 * DAY;
  t.is(await greylist.sweep(), 1);
  clock.now += 9 * DAY;
  t.is(await greylist.sweep(), 3);
  t.is(await greylist.size(), 0);
  t.is((await greylist.check({ clientIp: '198.51.100.7', sender: 'news@sender.test', recipient: 'a@example.com' }, cfg)).kind, 'defer');
});
