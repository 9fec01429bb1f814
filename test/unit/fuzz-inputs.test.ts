// Property/fuzz tests of what outsiders hand the console: list files (an export imports back to
// the same cells, whatever they hold; any text parses without crashing, with sane line numbers),
// configuration documents (any YAML or JSON gets a result or a list of problems, never a crash),
// and paging cursors (anything is a position of the right shape or a 400, and positions round-trip).
// Quick suite: fixed seed, bounded; MAILMOAT_FUZZ=long for a long run (test/helpers/fuzz.ts).
import test from 'ava';
import fc from 'fast-check';
import YAML from 'yaml';
import { ApiError } from '../../appliance/api/errors.ts';
import { decodeCursor, encodeCursor, type CursorKind } from '../../appliance/api/providers/cursor.ts';
import { validateConfig } from '../../appliance/config/validate.ts';
import { CONDITION_HEADER, SIMPLE_HEADER, parseListFile, toCsv } from '../../appliance/lists/list-files.ts';
import { FUZZ_TIMEOUT_MS, fuzzParams, mutated } from '../helpers/fuzz.ts';

// Cells with the characters that matter to CSV and to spreadsheets, and any other text.
const cell = fc.oneof(
  fc.string({ unit: fc.constantFrom(',', '"', '\r', '\n', ' ', '\t', '#', '=', '+', '-', '@', "'", 'a', 'é', '語', '\uFEFF', '\u00a0', '\u2028') }),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
);

test('a list file export parses back to exactly the cells written', (t) => {
  t.timeout(FUZZ_TIMEOUT_MS);
  fc.assert(fc.property(fc.boolean(), fc.array(fc.array(cell, { minLength: 5, maxLength: 5 }), { maxLength: 8 }), (condition, rows) => {
    const header = condition ? CONDITION_HEADER : SIMPLE_HEADER;
    const written = rows.map((r) => r.slice(0, header.length));
    const read = parseListFile(toCsv(header, written), header);
    return JSON.stringify(read.map((r) => r.fields)) === JSON.stringify(written) && read.every((r) => !r.error);
  }), fuzzParams<[boolean, string[][]]>(1000, [
    [false, [['#', '', '', '', '']]], // found by this test: a cell starting with "#" was read back as a comment line
  ]));
  t.pass();
});

test('any text, and mutated list files, parse without crashing, with line numbers inside the file', (t) => {
  t.timeout(FUZZ_TIMEOUT_MS);
  const seeds = [
    Buffer.from('field,value,mode,header,note\r\nsubject,"Sale, today only",partial,,"said ""hi"""\r\nheader,bulk,exact,x-mailer,\r\n'),
    Buffer.from('# comment\nspam@example.test\tnote\n\nother.test\n'),
  ];
  const text = fc.oneof(fc.string({ unit: 'binary' }), mutated(seeds, [',', '"', '\r\n', '\n', '\t', '#', '""', '\uFEFF']).map((b) => b.toString('utf8')));
  fc.assert(fc.property(text, (input) => {
    const lines = input.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/).length;
    const rows = parseListFile(input, SIMPLE_HEADER);
    return rows.every((r, i) => r.line >= 1 && r.line <= lines && (i === 0 || r.line > rows[i - 1].line) && Array.isArray(r.fields));
  }), fuzzParams<[string]>(1000, [
    // Found by this test: line numbers went past the file after a leading blank line followed by
    // CRLF lines, and after a TSV line starting with a tab and "#" (a record, not a comment).
    ['\nfield,value,mode,header,note\r\nsubject,"Sale, today only",partial,,"said ""hi"""\r\nheader,bulk,exact,x-mailer,\r\n'],
    ['\t# comment\nspam@example.test\tnote\n\nother.test\n\t# comment\nspam@example.test\tnote\n\nother.test\n'],
  ]));
  t.pass();
});

test('any configuration document gets a configuration or a list of problems with paths, never a crash', (t) => {
  t.timeout(FUZZ_TIMEOUT_MS);
  const valid = {
    hostname: 'mx.example.test',
    domains: [{ name: 'example.com', routes: [{ host: '192.0.2.10', port: 25 }], recipients: { mode: 'listed', addresses: ['info'] } }],
    relay: { networks: ['192.0.2.0/24'] },
    limits: { auth: { failuresPerClient: 5 }, trustedNetworks: ['2001:db8::/32'] },
    filtering: { rules: [{ class: 'Spam', action: 'quarantine' }] },
  };
  // A valid document with one place replaced by anything, or any JSON value at all.
  const paths: string[][] = [];
  const walk = (v: unknown, at: string[]) => {
    paths.push(at);
    if (v && typeof v === 'object') for (const [k, c] of Object.entries(v)) walk(c, [...at, k]);
  };
  walk(valid, []);
  const replaced = fc.tuple(fc.constantFrom(...paths.slice(1)), fc.jsonValue()).map(([at, value]) => {
    const doc = structuredClone(valid) as Record<string, unknown>;
    let parent: Record<string, unknown> = doc;
    for (const k of at.slice(0, -1)) parent = parent[k] as Record<string, unknown>;
    parent[at.at(-1)!] = value;
    return doc as unknown;
  });
  fc.assert(fc.property(fc.oneof(replaced, fc.jsonValue(), fc.object()), (doc) => {
    const r = validateConfig(doc);
    return r.ok ? typeof r.config.hostname === 'string' : r.problems.length > 0 && r.problems.every((p) => p.path.startsWith('/'));
  }), fuzzParams(500));
  t.true(validateConfig(valid).ok);
});

test('YAML text of any shape is either a parse error or a document the validator answers', (t) => {
  t.timeout(FUZZ_TIMEOUT_MS);
  const seeds = [Buffer.from('hostname: mx.example.test\ndomains:\n  - name: example.com\n    routes: [{ host: 192.0.2.10, port: 25 }]\nlimits: { auth: { delayMs: 0 } }\n')];
  fc.assert(fc.property(mutated(seeds, [':', '- ', '[', ']', '{', '}', '&a', '*a', '<<', '!!', '\n  ', '#', '"', "'", '|', '>']), (bytes) => {
    let doc: unknown;
    try {
      doc = YAML.parse(bytes.toString('utf8'), { logLevel: 'error' }) ?? {};
    } catch {
      return true; // reported as problem.not-yaml by readConfigFile
    }
    const r = validateConfig(doc);
    return r.ok || r.problems.length > 0;
  }), fuzzParams(500));
  t.pass();
});

test('a cursor is a position of its kind or a 400; every position round-trips', (t) => {
  t.timeout(FUZZ_TIMEOUT_MS);
  const kinds: CursorKind[] = ['quarantine', 'log', 'audit'];
  const positions: Record<CursorKind, fc.Arbitrary<string>> = {
    quarantine: fc.stringMatching(/^\d{13}![A-Za-z0-9._-]{1,200}$/),
    log: fc.stringMatching(/^[A-Za-z0-9._-]{1,200}$/),
    audit: fc.date({ min: new Date('2000-01-01'), max: new Date('2999-12-31'), noInvalidDate: true })
      .chain((d) => fc.integer({ min: 0, max: 999_999 }).map((n) => `${d.toISOString()}!${String(n).padStart(6, '0')}`)),
  };
  const kind = fc.constantFrom(...kinds);
  fc.assert(fc.property(kind, fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.base64String()), (k, cursor) => {
    try {
      const position = decodeCursor(k, cursor);
      return encodeCursor(k, position) === cursor || decodeCursor(k, encodeCursor(k, position)) === position;
    } catch (err) {
      return err instanceof ApiError && err.status === 400;
    }
  }), fuzzParams(2000));
  fc.assert(fc.property(kind.chain((k) => positions[k].map((p) => [k, p] as const)), ([k, p]) => decodeCursor(k, encodeCursor(k, p)) === p), fuzzParams(1000));
  fc.assert(fc.property(kind, kind, fc.string({ minLength: 1 }), (k1, k2, p) => {
    fc.pre(k1 !== k2);
    try {
      decodeCursor(k2, encodeCursor(k1, p));
      return false;
    } catch (err) {
      return err instanceof ApiError;
    }
  }), fuzzParams(500));
  t.pass();
});
