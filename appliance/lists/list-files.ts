// The file format lists are exported in and imported from: CSV (RFC 4180, UTF-8 with a header
// row) so a spreadsheet opens it, with quoting for commas, quotes and line breaks. Tab-separated
// files (the format of earlier exports) are still read: a file whose first data line holds a tab
// and no comma is taken as TSV. Lines starting with "#" and blank lines are ignored.

export const SIMPLE_HEADER = ['value', 'note'];
export const CONDITION_HEADER = ['field', 'value', 'mode', 'header', 'note'];

export function toCsv(header: string[], rows: string[][]): string {
  const cell = (v: string) => (/[",\r\n]/.test(v) || /^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

/** Rows of a CSV or TSV list file with their 1-based line numbers; the header row is dropped. */
export function parseListFile(text: string, header: string[]): { line: number; fields: string[]; raw: string }[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const firstData = lines.find((l) => l.trim() && !l.trim().startsWith('#')) ?? '';
  const tsv = firstData.includes('\t') && !firstData.includes(',');
  const rows: { line: number; fields: string[]; raw: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let raw = lines[i];
    if (!raw.trim() || raw.trim().startsWith('#')) continue;
    if (tsv) {
      rows.push({ line: start + 1, fields: raw.split('\t').map((s) => s.trim()), raw });
      continue;
    }
    // A quoted field may span lines: join until the quotes balance.
    while ((raw.match(/"/g)?.length ?? 0) % 2 === 1 && i + 1 < lines.length) raw += `\n${lines[++i]}`;
    rows.push({ line: start + 1, fields: splitCsvLine(raw), raw });
  }
  if (rows.length && rows[0].fields.map((f) => f.toLowerCase()).join(',') === header.join(',')) rows.shift();
  return rows;
}

function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { fields.push(field.trim()); field = ''; } else field += c;
  }
  fields.push(field.trim());
  return fields;
}
