// The console's one date helper (web-ui/src/dates.ts): times in a given zone with its
// abbreviation or offset, in the user's language, across daylight saving changes; day ranges for
// searches read in a zone, not in the browser's; and the zone chosen for a row's domain.
import test from 'ava';
import { dayEnd, dayStart, formatTime, minuteInstant, setTimeZones, zoneFor } from '../../web-ui/src/dates.ts';

test('Japanese and English formats with the zone shown, Asia/Tokyo', (t) => {
  t.is(formatTime('ja', '2026-11-23T04:40:00Z', 'Asia/Tokyo'), '2026/11/23 13:40 JST');
  t.is(formatTime('en', '2026-11-23T04:40:00Z', 'Asia/Tokyo'), '23 Nov 2026, 13:40 GMT+9');
  t.is(formatTime('ja', Date.parse('2026-12-31T15:30:00Z'), 'Asia/Tokyo'), '2027/01/01 00:30 JST', 'the day turns in the zone, not in UTC');
});

test('a daylight-saving zone shows the offset in force at that instant', (t) => {
  t.is(formatTime('ja', '2026-01-15T15:00:00Z', 'America/New_York'), '2026/01/15 10:00 GMT-5');
  t.is(formatTime('ja', '2026-07-15T15:00:00Z', 'America/New_York'), '2026/07/15 11:00 GMT-4');
  t.is(formatTime('en', '2026-07-15T15:00:00Z', 'Europe/London'), '15 Jul 2026, 16:00 BST');
  t.is(formatTime('en', '2026-01-15T15:00:00Z', 'Europe/London'), '15 Jan 2026, 15:00 GMT');
});

test('no time is empty; an unknown zone falls back to UTC, labelled', (t) => {
  t.is(formatTime('en', undefined, 'Asia/Tokyo'), '');
  t.is(formatTime('en', '2026-11-23T04:40:00Z', 'Not/AZone'), '23 Nov 2026, 04:40 UTC');
});

test('search days begin and end at midnight in the zone, including days of 23 and 25 hours', (t) => {
  t.is(dayStart('2026-11-23', 'Asia/Tokyo'), '2026-11-22T15:00:00.000Z');
  t.is(dayEnd('2026-11-23', 'Asia/Tokyo'), '2026-11-23T15:00:00.000Z');
  t.is(dayStart('2026-03-08', 'America/New_York'), '2026-03-08T05:00:00.000Z');
  t.is(dayEnd('2026-03-08', 'America/New_York'), '2026-03-09T04:00:00.000Z');
  t.is(dayStart('2026-11-01', 'America/New_York'), '2026-11-01T04:00:00.000Z');
  t.is(dayEnd('2026-11-01', 'America/New_York'), '2026-11-02T05:00:00.000Z');
  t.is(dayEnd('2026-12-31', 'Asia/Tokyo'), '2026-12-31T15:00:00.000Z', 'across the year end');
  t.is(dayStart('', 'Asia/Tokyo'), undefined);
});

test('a row\'s zone is its domain\'s, else the appliance\'s; search days default to the caller\'s own zone', (t) => {
  setTimeZones({ system: 'Asia/Tokyo', own: 'Europe/London', domains: { 'a.example': 'America/New_York', 'b.example': 'Asia/Tokyo' } });
  t.is(zoneFor('carol@A.example'), 'America/New_York');
  t.is(zoneFor('x@elsewhere.test', 'dave@b.example'), 'Asia/Tokyo');
  t.is(zoneFor('x@elsewhere.test'), 'Asia/Tokyo');
  t.is(zoneFor(), 'Asia/Tokyo');
  t.is(dayStart('2026-07-01'), '2026-06-30T23:00:00.000Z');
});

test('a minute of a datetime-local field is that minute in the zone, also across a change of offset', (t) => {
  t.is(minuteInstant('2026-11-23T09:30', 'Asia/Tokyo'), '2026-11-23T00:30:00.000Z');
  t.is(minuteInstant('2026-03-08T03:15', 'America/New_York'), '2026-03-08T07:15:00.000Z');
  t.is(minuteInstant('2026-11-23', 'Asia/Tokyo'), undefined);
  t.is(minuteInstant('', 'Asia/Tokyo'), undefined);
});
