// Sizes as the console shows them (web-ui/src/sizes.ts): the unit words of each language from the
// catalog — Japanese says バイト, never "byte" — with one decimal above bytes, and a size that rounds
// up to a thousand of one unit shown in the next.
import test from 'ava';
import { sizeText } from '../../web-ui/src/sizes.ts';

test('Japanese sizes: バイト, kB, MB, GB', (t) => {
  t.is(sizeText('ja', 302), '302 バイト');
  t.is(sizeText('ja', 1), '1 バイト');
  t.is(sizeText('ja', 0), '0 バイト');
  t.is(sizeText('ja', 1234), '1.2 kB');
  t.is(sizeText('ja', 3_456_789), '3.5 MB');
  t.is(sizeText('ja', 12_300_000_000), '12.3 GB');
  t.false(/byte/i.test(sizeText('ja', 302)));
});

test('English sizes: bytes, kB, MB, GB, TB', (t) => {
  t.is(sizeText('en', 302), '302 bytes');
  t.is(sizeText('en', 1), '1 byte');
  t.is(sizeText('en', 1000), '1.0 kB');
  t.is(sizeText('en', 2_500_000), '2.5 MB');
  t.is(sizeText('en', 7_000_000_000_000), '7.0 TB');
  t.is(sizeText('en', 1_234_567_000_000_000), '1,234.6 TB', 'beyond the last unit the number grows');
});

test('a size that rounds to a thousand of a unit is shown in the next one', (t) => {
  t.is(sizeText('en', 999_960), '1.0 MB');
  t.is(sizeText('ja', 999_949), '999.9 kB');
  t.is(sizeText('en', 999), '999 bytes');
  t.is(sizeText('en', Number.NaN), '—');
});
