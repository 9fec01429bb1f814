// CSV as the console exports it (RFC 4180, written by csv-stringify), and the formula guard every
// exported cell goes through. A spreadsheet evaluates a cell that starts with = + - @ TAB or CR
// ("CSV injection", OWASP): such a cell is written with a leading apostrophe, which spreadsheets
// show as text. The guard is reversible so an export imports back to the same values: a cell that
// already starts with apostrophes before such a character gets one more, and `unguardCell` takes
// exactly one off. Every CSV the console offers for download is made by `toCsv`, or, for one too
// large to hold (a message log export), streamed by `csvStream` with the same rules.
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

/**
 * The same CSV written as it is read: a UTF-8 byte order mark first (so that Excel reads
 * Japanese text as UTF-8), the header row, then the rows in chunks of whole lines.
 */
export async function* csvStream(header: string[], rows: AsyncIterable<string[][]>): AsyncGenerator<string> {
  yield `\uFEFF${stringify([header.map(guardCell)], OPTIONS)}`;
  for await (const chunk of rows) {
    if (chunk.length) yield stringify(chunk.map((r) => r.map(guardCell)), OPTIONS);
  }
}
