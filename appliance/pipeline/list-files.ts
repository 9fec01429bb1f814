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
  const body = text.replace(/^\uFEFF/, '');
  const lines = body.split(/\r\n|\n|\r/);
  const ignored = (l: string) => !l.trim() || l.trim().startsWith('#');
  const tsv = ((first) => first.includes('\t') && !first.includes(','))(lines.find((l) => !ignored(l)) ?? '');
  const rows: ListFileRow[] = [];
  let lastLine = 0; // the line the previous record ended on
  const row = (endLine: number, fields: string[], error?: string) => {
    let start = lastLine;
    while (start < lines.length - 1 && ignored(lines[start])) start++;
    const end = Math.min(Math.max(endLine, start + 1), lines.length);
    rows.push({ line: start + 1, fields, raw: lines.slice(start, end).join('\n'), ...(error ? { error } : {}) });
    lastLine = end;
  };
  // Both callbacks run in file order while parsing, so the rows come out in order.
  parse(body, {
    delimiter: tsv ? '\t' : ',',
    quote: tsv ? false : '"',
    comment: '#',
    comment_no_infix: true,
    skip_empty_lines: true,
    trim: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_records_with_error: true,
    on_record: (record: string[], context) => { row(context.lines, record.map(unguardCell)); return null; },
    on_skip: (err: CsvError | undefined) => { row(typeof err?.lines === 'number' ? err.lines : lines.length, [], err?.message ?? 'unreadable line'); },
  });
  if (rows.length && !rows[0].error && rows[0].fields.map((f) => f.toLowerCase()).join(',') === header.join(',')) rows.shift();
  return rows;
}
