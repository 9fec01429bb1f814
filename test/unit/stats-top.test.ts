// Top-N summaries (appliance/stats/top.ts) against exact counts: a stream with more distinct values
// than slots keeps every value seen more than total / capacity times, each count within its error
// bound of the truth (never under it), at most `capacity` entries; a day with fewer distinct values
// than slots is exact; summing days adds counts and errors and ranks by count.
import test from 'ava';
import { addToSummary, mergeSummaries, type TopEntry } from '../../appliance/stats/top.ts';

/** A deterministic skewed stream: value i appears about 1000 / (i + 1) times, interleaved in batches. */
function stream(): string[][] {
  const batches: string[][] = [];
  let seed = 7;
  const rand = () => { seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31; return seed / 2 ** 31; };
  for (let b = 0; b < 40; b++) {
    const batch: string[] = [];
    for (let i = 0; i < 400; i++) batch.push(`v${Math.floor(1 / (rand() + 0.001)) % 500}`);
    batches.push(batch);
  }
  return batches;
}

test('a day\'s summary stays bounded, keeps the heavy hitters and bounds each count\'s error', (t) => {
  const capacity = 20;
  const truth = new Map<string, number>();
  let summary: TopEntry[] = [];
  let total = 0;
  for (const batch of stream()) {
    const counts = new Map<string, number>();
    for (const v of batch) { counts.set(v, (counts.get(v) ?? 0) + 1); truth.set(v, (truth.get(v) ?? 0) + 1); total++; }
    summary = addToSummary(summary, counts, capacity);
    t.true(summary.length <= capacity);
  }
  t.true(truth.size > capacity * 5, 'the stream has many more values than slots');
  for (const [value, count, error] of summary) {
    const real = truth.get(value)!;
    t.true(count >= real && count - error <= real, `${value}: ${count} (error ${error}) against ${real}`);
  }
  for (const [value, real] of truth) {
    if (real > total / capacity) t.true(summary.some((e) => e[0] === value), `${value} (${real} of ${total}) is kept`);
  }
});

test('a day with fewer values than slots is exact; days sum and rank', (t) => {
  const day1 = addToSummary([], new Map([['a', 5], ['b', 2]]), 10);
  addToSummary(day1, new Map([['a', 1], ['c', 4]]), 10);
  t.deepEqual(day1, [['a', 6, 0], ['b', 2, 0], ['c', 4, 0]]);
  const day2 = addToSummary([], new Map([['x', 1], ['y', 1]]), 2);
  addToSummary(day2, new Map([['c', 3]]), 2);
  t.deepEqual(day2, [['c', 4, 1], ['y', 1, 0]], 'c takes the smallest slot and its count as error');
  t.deepEqual(mergeSummaries([day1, day2], 3), [
    { value: 'c', count: 8, error: 1 }, { value: 'a', count: 6, error: 0 }, { value: 'b', count: 2, error: 0 },
  ]);
});
