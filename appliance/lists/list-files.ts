// The file format lists are exported in and imported from: CSV (RFC 4180, UTF-8 with a header
// row) so a spreadsheet opens it, written by csv/csv.ts (quoting, formula guard) and read by
// csv-parse, so a quoted field (commas, quotes, line breaks, edge spaces) comes back as it was.
// Tab-separated files (the format of earlier exports) are still read: a file whose first data line
// holds a tab and no comma is taken as TSV, without quoting. Lines starting with "#" and blank lines
// are ignored. A line the parser cannot read (an unclosed quote) is returned with its error, so the
// import reports it instead of refusing the whole file.
import { parse, type CsvError } from 'csv-parse/sync';
import { toCsv, unguardCell } from '../csv/csv.ts';

export { toCsv };

export const SIMPLE_HEADER = ['value', 'note'];
export const CONDITION_HEADER = ['field', 'value', 'mode', 'header', 'note'];

/** The header a list of this kind is exported and imported with. */
export const headerFor = (kind: string) => (kind.startsWith('condition-') ? CONDITION_HEADER : SIMPLE_HEADER);

/** An empty list file of this kind (the header row only): the template a person fills in. */
export const templateCsv = (kind: string) => toCsv(headerFor(kind), []);

export interface ListFileRow {
  /** 1-based line number where the row starts. */
  line: number;
  fields: string[];
  /** The row's text as it stands in the file (all its lines). */
  raw: string;
  /** Set when the row could not be read; `fields` is then empty. */
  error?: string;
}

/** Rows of a CSV or TSV list file with their line numbers; the header row is dropped. */
export function parseListFile(text: string, header: string[]): ListFileRow[] {
  const body = Buffer.from(text.replace(/^\uFEFF/, ''));
  const lines = body.toString().split(/\r\n|\n|\r/);
  // Byte offset where each line starts: the parser reports positions in bytes.
  const starts = [0];
  for (let i = 0; i < body.length; i++) {
    if (body[i] === 0x0d && body[i + 1] === 0x0a) i++;
    if (body[i] === 0x0a || body[i] === 0x0d) starts.push(i + 1);
  }
  const lineAt = (offset: number) => {
    let lo = 0, hi = starts.length - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (starts[mid] <= offset) lo = mid; else hi = mid - 1; }
    return lo; // 0-based
  };
  const firstData = lines.find((l) => l.trim() && !l.trim().startsWith('#')) ?? '';
  const tsv = firstData.includes('\t') && !firstData.includes(',');
  const rows: ListFileRow[] = [];
  let next = 0; // the first line after the previous record
  const row = (start: number, end: number, fields: string[], error?: string) => {
    start = Math.max(start, next);
    end = Math.max(start, Math.min(end, lines.length - 1));
    rows.push({ line: start + 1, fields, raw: lines.slice(start, end + 1).join('\n'), ...(error ? { error } : {}) });
    next = end + 1;
  };
  // The last line of a record that ends at byte `end` (after its line break).
  const lastLine = (end: number) => {
    if (body[end - 1] === 0x0a) end--;
    if (body[end - 1] === 0x0d) end--;
    return lineAt(Math.max(0, end - 1));
  };
  const breaks = (fields: string[]) => fields.reduce((n, f) => n + (f.match(/\r\n|\n|\r/g)?.length ?? 0), 0);
  // Both callbacks run in file order while parsing, so the rows come out in order.
  parse(body, {
    delimiter: tsv ? '\t' : ',',
    quote: tsv ? false : '"',
    record_delimiter: ['\r\n', '\n', '\r'],
    comment: '#',
    comment_no_infix: true,
    skip_empty_lines: true,
    trim: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_records_with_error: true,
    // A record starts as many lines before its last as its quoted fields hold line breaks.
    on_record: (record: string[], context) => {
      const end = lastLine(context.bytes);
      row(end - breaks(record), end, record.map(unguardCell));
      return null;
    },
    // An unclosed quote takes the rest of the file with it; the error is where the record began.
    on_skip: (err: CsvError | undefined) => {
      let start = typeof err?.bytes === 'number' ? lineAt(err.bytes) : next;
      while (start < lines.length - 1 && !lines[start].trim()) start++;
      row(start, lines.length - 1, [], err?.message ?? 'unreadable line');
    },
  });
  if (rows.length && !rows[0].error && rows[0].fields.map((f) => f.toLowerCase()).join(',') === header.join(',')) rows.shift();
  return rows;
}
