// CSV as the console exports it (RFC 4180, written by csv-stringify), and the formula guard every
// exported cell goes through. A spreadsheet evaluates a cell that starts with = + - @ TAB or CR
// ("CSV injection", OWASP): such a cell is written with a leading apostrophe, which spreadsheets
// show as text. The guard is reversible so an export imports back to the same values: a cell that
// already starts with apostrophes before such a character gets one more, and `unguardCell` takes
// exactly one off. Every CSV the console offers for download is made by `toCsv`, or, for one too
// large to hold (a message log export), streamed by `csvStream` with the same rules. The stream
// writes its cells itself: csv-stringify spent most of a large export's time in its per-cell
// option handling (about 25 µs a row of 20 cells), for the few rules below, which
// test/unit/csv-stream.test.ts holds to csv-stringify's output for any text.
import { stringify } from 'csv-stringify/sync';

const FORMULA = /^'*[=+\-@\t\r]/;

export function guardCell(value: string): string {
  return FORMULA.test(value) ? `'${value}` : value;
}

export function unguardCell(value: string): string {
  return value.startsWith("'") && FORMULA.test(value) ? value.slice(1) : value;
}

const OPTIONS = {
  record_delimiter: '\r\n',
  quote_record_delimiter: true,
  // Leading or trailing spaces are kept by quoting (readers trim unquoted fields); a cell
  // starting with "#" is quoted so that a line starting with it is not read as a comment.
  quoted_match: [/^\s|\s$/, /^#/],
};

/** A CSV file with a header row, CRLF line ends, every cell guarded. */
export function toCsv(header: string[], rows: string[][]): string {
  return stringify([header, ...rows].map((r) => r.map(guardCell)), OPTIONS);
}

/** What makes csv-stringify quote a cell under OPTIONS: a quote, comma or line break, the quoted_match patterns. */
const NEEDS_QUOTES = /[",\r\n]|^[\s#]|\s$/;

/** One guarded cell as `toCsv` writes it. */
function csvCell(value: string): string {
  const v = guardCell(value);
  return NEEDS_QUOTES.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** Rows as `toCsv` writes them, each line ended by CRLF. */
export function csvLines(rows: string[][]): string {
  let out = '';
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) out += (i ? ',' : '') + csvCell(row[i]);
    out += '\r\n';
  }
  return out;
}

/**
 * The same CSV written as it is read: a UTF-8 byte order mark first unless `bom` is false (with it
 * Excel reads Japanese text as UTF-8), the header row, then the rows in chunks of whole lines.
 */
export async function* csvStream(header: string[], rows: AsyncIterable<string[][]>, o: { bom?: boolean } = {}): AsyncGenerator<string> {
  yield `${o.bom === false ? '' : '\uFEFF'}${csvLines([header])}`;
  for await (const chunk of rows) {
    if (chunk.length) yield csvLines(chunk);
  }
}
