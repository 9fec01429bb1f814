// The store's format number (appliance/store/store.ts): a new store records it; a store in the
// same or an older format opens; one written in a newer format is refused before LevelDB opens it,
// with a message that says what to do, and is left exactly as it was.
import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, STORE_FORMAT, StoreTooNewError } from '../../appliance/store/store.ts';

test('a store of a newer format is refused untouched; the same or an older one opens', async (t) => {
  const data = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-format-'));
  t.teardown(() => rmSync(data, { recursive: true, force: true }));
  const formatFile = path.join(data, 'db', 'MAILMOAT-FORMAT');
  const store = await openStore(data, { writtenBy: '0.1.0' });
  await store.sublevel<string>('config').put('k', 'v');
  await store.close();
  t.deepEqual(JSON.parse(readFileSync(formatFile, 'utf8')), { format: STORE_FORMAT, writtenBy: '0.1.0' });

  // A newer system wrote it (format + 1): an older one refuses and changes nothing.
  writeFileSync(formatFile, JSON.stringify({ format: STORE_FORMAT + 1, writtenBy: '0.2.0' }));
  const err = await t.throwsAsync(openStore(data, { writtenBy: '0.1.0' }), { instanceOf: StoreTooNewError });
  t.regex(err!.message, new RegExp(`written by a newer Mailmoat \\(0\\.2\\.0\\) in format ${STORE_FORMAT + 1}; this system reads format ${STORE_FORMAT} and older`));
  t.regex(err!.message, /Start the newer system again/);
  t.deepEqual(JSON.parse(readFileSync(formatFile, 'utf8')), { format: STORE_FORMAT + 1, writtenBy: '0.2.0' });
  // The newer system itself still opens it, data intact.
  const newer = await openStore(data, { format: STORE_FORMAT + 1 });
  t.is(await newer.sublevel<string>('config').get('k'), 'v');
  await newer.close();

  // A fresh data directory refused before LevelDB made anything.
  const fresh = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-format-'));
  t.teardown(() => rmSync(fresh, { recursive: true, force: true }));
  mkdirSync(path.join(fresh, 'db'));
  writeFileSync(path.join(fresh, 'db', 'MAILMOAT-FORMAT'), JSON.stringify({ format: STORE_FORMAT + 5 }));
  await t.throwsAsync(openStore(fresh), { instanceOf: StoreTooNewError });
  t.false(existsSync(path.join(fresh, 'db', 'CURRENT')), 'LevelDB opened a store it should have refused');
});
