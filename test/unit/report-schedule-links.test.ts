// Report scheduling in a domain's own time zone (a zone without DST and one with it, across both
// changes), and the signed action links: key file, tampering, expiry, malformed tokens.
import test from 'ava';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LinkSigner, loadLinkKey, singleUse } from '../../appliance/reports/links.ts';
import { latestSlot, wallClock, zonedInstant } from '../../appliance/reports/schedule.ts';

const daily = (time: string) => ({ frequency: 'daily' as const, time, weekday: 1 });
const iso = (ms: number) => new Date(ms).toISOString();

test('Asia/Tokyo: a daily 09:00 slot is 00:00 UTC, reached exactly at that instant and not a second before', (t) => {
  const at = Date.parse('2026-11-30T00:00:00Z');
  t.is(iso(latestSlot(daily('09:00'), 'Asia/Tokyo', at)), '2026-11-30T00:00:00.000Z');
  t.is(iso(latestSlot(daily('09:00'), 'Asia/Tokyo', at - 1000)), '2026-11-29T00:00:00.000Z');
  t.is(iso(latestSlot(daily('09:00'), 'Asia/Tokyo', Date.parse('2026-07-01T12:00:00Z'))), '2026-07-01T00:00:00.000Z');
});

test('Europe/Berlin: a daily 09:00 slot follows the wall clock across the spring and autumn changes', (t) => {
  const slot = (now: string) => iso(latestSlot(daily('09:00'), 'Europe/Berlin', Date.parse(now)));
  t.is(slot('2026-03-28T12:00:00Z'), '2026-03-28T08:00:00.000Z'); // CET, UTC+1
  t.is(slot('2026-03-29T12:00:00Z'), '2026-03-29T07:00:00.000Z'); // the change was at 01:00 UTC: CEST, UTC+2
  t.is(slot('2026-03-29T06:59:59Z'), '2026-03-28T08:00:00.000Z');
  t.is(slot('2026-10-24T12:00:00Z'), '2026-10-24T07:00:00.000Z');
  t.is(slot('2026-10-25T12:00:00Z'), '2026-10-25T08:00:00.000Z'); // back to CET
  t.is(slot('2026-10-25T07:30:00Z'), '2026-10-24T07:00:00.000Z'); // 08:30 CET: today's 09:00 has not come
});

test('a wall-clock time the spring change skips runs at the shifted instant; a repeated one runs once', (t) => {
  t.is(iso(zonedInstant(2026, 3, 29, 2, 30, 'Europe/Berlin')), '2026-03-29T01:30:00.000Z'); // 03:30 CEST
  t.deepEqual(wallClock(zonedInstant(2026, 3, 29, 2, 30, 'Europe/Berlin'), 'Europe/Berlin'), { year: 2026, month: 3, day: 29, hour: 3, minute: 30, second: 0 });
  const repeated = latestSlot(daily('02:30'), 'Europe/Berlin', Date.parse('2026-10-25T12:00:00Z'));
  t.is(wallClock(repeated, 'Europe/Berlin').hour, 2);
  t.is(iso(repeated), '2026-10-25T01:30:00.000Z');
});

test('a weekly slot falls on its weekday in the zone, even where that is the previous day in UTC', (t) => {
  const monday9 = { frequency: 'weekly' as const, time: '09:00', weekday: 1 };
  // Wednesday 2 December 2026: the latest Monday 09:00 in Tokyo is 30 November, 00:00 UTC.
  t.is(iso(latestSlot(monday9, 'Asia/Tokyo', Date.parse('2026-12-02T03:00:00Z'))), '2026-11-30T00:00:00.000Z');
  const monday0830 = { frequency: 'weekly' as const, time: '08:30', weekday: 1 };
  // Monday 08:30 in Tokyo is Sunday 23:30 UTC.
  t.is(iso(latestSlot(monday0830, 'Asia/Tokyo', Date.parse('2026-11-29T23:30:00Z'))), '2026-11-29T23:30:00.000Z');
  t.is(iso(latestSlot(monday0830, 'Asia/Tokyo', Date.parse('2026-11-29T23:29:00Z'))), '2026-11-22T23:30:00.000Z');
});

async function keyDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-links-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('the link key is made once on the data partition with mode 0600 and read back after that', async (t) => {
  const dir = await keyDir(t);
  const key = await loadLinkKey(dir);
  t.is(key.length, 32);
  t.is((await stat(path.join(dir, 'report-links.key'))).mode & 0o777, 0o600);
  t.deepEqual(await loadLinkKey(dir), key);
  const other = await keyDir(t);
  await writeFile(path.join(other, 'report-links.key'), Buffer.alloc(32, 1), { mode: 0o644 });
  await t.throwsAsync(() => loadLinkKey(other), { message: /readable by others/ });
});

test('a token verifies with its claims until it expires; a changed byte, another key or a cut token fails', async (t) => {
  const signer = new LinkSigner(await loadLinkKey(await keyDir(t)));
  const claims = { message: 'Q1', action: 'release' as const, recipient: 'Tanaka@Example.jp', expiresAt: 2_000_000, language: 'ja' as const };
  const token = signer.sign(claims);
  const ok = signer.verify(token, 1_999_999);
  t.true(ok.ok);
  if (ok.ok) t.deepEqual(ok.claims, { ...claims, recipient: 'tanaka@example.jp' });
  t.deepEqual(signer.verify(token, 2_000_000), { ok: false, reason: 'expired' });
  // Another recipient or message in the payload, with the old signature.
  const [payload, mac] = token.split('.');
  const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), r: 'suzuki@example.jp' })).toString('base64url');
  t.deepEqual(signer.verify(`${forged}.${mac}`, 0), { ok: false, reason: 'forged' });
  const flipped = payload.slice(0, -2) + (payload.at(-2) === 'A' ? 'B' : 'A') + payload.at(-1);
  t.deepEqual(signer.verify(`${flipped}.${mac}`, 0), { ok: false, reason: 'forged' });
  t.deepEqual(new LinkSigner(Buffer.alloc(32, 7)).verify(token, 0), { ok: false, reason: 'forged' });
  t.deepEqual(signer.verify(token.slice(0, -1), 0), { ok: false, reason: 'malformed' });
  t.deepEqual(signer.verify('', 0), { ok: false, reason: 'malformed' });
  // Two links for the same claims differ (a nonce), so using one does not use the other.
  t.not(signer.sign(claims), token);
});

test('message actions are single use; opening the quarantine and (un)subscribing may be repeated', (t) => {
  t.deepEqual(['release', 'release-train', 'allow-release', 'block-delete', 'delete'].map((a) => singleUse(a as 'release')), [true, true, true, true, true]);
  t.deepEqual(['open', 'unsubscribe', 'subscribe'].map((a) => singleUse(a as 'open')), [false, false, false]);
});

test('a digest sent three times a day has its slots at each time in the zone', (t) => {
  const scout = { frequency: 'daily' as const, time: '09:00', weekday: 1, extraTimes: ['13:00', '17:30'] };
  const slot = (now: string) => iso(latestSlot(scout, 'Asia/Tokyo', Date.parse(now)));
  t.is(slot('2026-11-30T03:59:00Z'), '2026-11-30T00:00:00.000Z'); // 12:59 JST → 09:00
  t.is(slot('2026-11-30T04:00:00Z'), '2026-11-30T04:00:00.000Z'); // 13:00
  t.is(slot('2026-11-30T08:30:00Z'), '2026-11-30T08:30:00.000Z'); // 17:30
  t.is(slot('2026-11-30T23:59:00Z'), '2026-11-30T08:30:00.000Z'); // 08:59 next day → yesterday's 17:30
});
