// Shared settings and a byte mutator for the property/fuzz tests. In the quick suite every property
// runs a fixed number of cases from a fixed seed (the same inputs every time, a few seconds each);
// MAILMOAT_FUZZ=long runs 100 times as many from a fresh seed, printed on failure so the case can
// be replayed (fc.assert's report has the seed and the shrunk counterexample: keep it as a
// regression example in the test).
import fc from 'fast-check';

export const LONG = process.env.MAILMOAT_FUZZ === 'long';

/** fast-check parameters for `runs` quick-suite cases. */
export function fuzzParams<T>(runs: number, examples: T[] = []): fc.Parameters<T> {
  return LONG
    ? { numRuns: runs * 100, examples }
    : { numRuns: runs, seed: 20261130, examples, interruptAfterTimeLimit: 20_000, markInterruptAsFailure: false };
}

/** The ava timeout for one property: minutes in the long run. */
export const FUZZ_TIMEOUT_MS = LONG ? 60 * 60_000 : 60_000;

type Mutation =
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; length: number }
  | { op: 'duplicate'; at: number; length: number }
  | { op: 'flip'; at: number; bit: number };

/** Mutations of a seed input: insertions of syntax tokens or random bytes, deletions, repeats, bit flips. */
export function mutated(seeds: Buffer[], tokens: string[]): fc.Arbitrary<Buffer> {
  const position = fc.double({ min: 0, max: 1, noNaN: true });
  const insertion = fc.oneof(fc.constantFrom(...tokens).map((s) => Buffer.from(s, 'latin1')), fc.uint8Array({ maxLength: 16 }));
  const mutation: fc.Arbitrary<{ kind: Mutation['op']; at: number; bytes: Uint8Array; length: number; bit: number }> = fc.record({
    kind: fc.constantFrom('insert', 'delete', 'duplicate', 'flip'),
    at: position,
    bytes: insertion,
    length: fc.integer({ min: 1, max: 64 }),
    bit: fc.integer({ min: 0, max: 7 }),
  });
  return fc.tuple(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 12 })).map(([seed, list]) => {
    let b = Buffer.from(seed);
    for (const m of list) {
      const at = Math.floor(m.at * b.length);
      if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
      else if (m.kind === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
      else if (m.kind === 'duplicate') b = Buffer.concat([b.subarray(0, at + m.length), b.subarray(at, at + m.length), b.subarray(at + m.length)]);
      else if (at < b.length) b[at] ^= 1 << m.bit;
    }
    return b;
  });
}
