// The streamed CSV (csvStream, used by the message log and statistics exports) writes every cell
// exactly as toCsv (csv-stringify) does, for any text: quoting, doubled quotes, the formula guard,
// CRLF line ends; with a byte order mark first unless asked not to.
import test from 'ava';
import fc from 'fast-check';
import { csvStream, toCsv } from '../../appliance/csv/csv.ts';
import { FUZZ_TIMEOUT_MS, fuzzParams } from '../helpers/fuzz.ts';

const cell = fc.oneof(
  fc.string({ unit: fc.constantFrom(',', '"', '\r', '\n', ' ', '\t', '#', '=', '+', '-', '@', "'", 'a', 'é', '語', '\uFEFF', '\u00a0', '\u3000', '\u2028', '\v', '\f') }),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
);

async function streamed(header: string[], chunks: string[][][], bom?: boolean): Promise<string> {
  async function* rows() { yield* chunks; }
  let out = '';
  for await (const text of csvStream(header, rows(), bom === undefined ? {} : { bom })) out += text;
  return out;
}

test('the stream writes what csv-stringify writes, for any cells and chunks', async (t) => {
  t.timeout(FUZZ_TIMEOUT_MS);
  const header = ['a', 'b', 'c'];
  await fc.assert(fc.asyncProperty(fc.array(fc.array(fc.array(cell, { minLength: 3, maxLength: 3 }), { maxLength: 5 }), { maxLength: 4 }), async (chunks) => {
    const out = await streamed(header, chunks);
    return out === `\uFEFF${toCsv(header, chunks.flat())}`;
  }), fuzzParams<[string[][][]]>(500, [
    [[[['', ' x', 'y\u3000'], ['#1', '=SUM(A1)', '"q",\r\n']]]],
  ]));
  t.pass();
});

test('known cells, and no byte order mark when asked', async (t) => {
  const out = await streamed(['subject', 'n'], [[['=HYPERLINK("x")', '1'], ['ご請求書, 11月', '2']], [], [['  padded', '-3']]], false);
  t.is(out, 'subject,n\r\n"\'=HYPERLINK(""x"")",1\r\n"ご請求書, 11月",2\r\n"  padded",\'-3\r\n');
});
