// One owner per sublevel: the SUBLEVELS table in appliance/store/store.ts names the one module
// that may open each sublevel, and the code is held to it. Every `.sublevel(...)` call under
// appliance/ must name its sublevel as a literal (so no call hides which one it opens), the name
// must be in the table, and the file must be the one the table names; every row of the table is
// opened by its owner (no stale rows). Nothing but the store module touches LevelDB itself.
import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { SUBLEVELS } from '../../appliance/store/store.ts';

const APPLIANCE = path.resolve(import.meta.dirname, '../../appliance');
const STORE_MODULE = 'store/store.ts';

interface Opening { file: string; name: string | undefined }

/** Every sublevel opening in one file's text; `name` undefined where it is not a literal. */
function openings(file: string, text: string): Opening[] {
  return [...text.matchAll(/\.sublevel\s*(?:<[^()]*?>)?\s*\(\s*(?:'([^']*)'|"([^"]*)")?/g)]
    .map((m) => ({ file, name: m[1] ?? m[2] }));
}

/** What breaks the ownership rules, in words that say what to fix. */
function violations(found: Opening[], table: Record<string, string>): string[] {
  const out: string[] = [];
  for (const o of found) {
    if (o.name === undefined) out.push(`${o.file}: opens a sublevel by a non-literal name`);
    else if (!(o.name in table)) out.push(`${o.file}: opens '${o.name}', which is not in SUBLEVELS`);
    else if (table[o.name] !== o.file) out.push(`${o.file}: opens '${o.name}', owned by ${table[o.name]}`);
  }
  for (const [name, owner] of Object.entries(table)) {
    if (!found.some((o) => o.name === name && o.file === owner)) out.push(`SUBLEVELS.${name}: its owner ${owner} never opens it`);
  }
  return out;
}

async function sources(): Promise<{ file: string; text: string }[]> {
  const out: { file: string; text: string }[] = [];
  for (const entry of await readdir(APPLIANCE, { recursive: true })) {
    if (!entry.endsWith('.ts')) continue;
    out.push({ file: entry.split(path.sep).join('/'), text: await readFile(path.join(APPLIANCE, entry), 'utf8') });
  }
  return out;
}

test('every sublevel is opened only by the module SUBLEVELS names, and every owner opens its own', async (t) => {
  const files = (await sources()).filter((f) => f.file !== STORE_MODULE);
  const found = files.flatMap((f) => openings(f.file, f.text));
  t.true(found.length >= Object.keys(SUBLEVELS).length);
  t.deepEqual(violations(found, SUBLEVELS), []);
});

test('only the store module imports LevelDB', async (t) => {
  const direct = (await sources())
    .filter((f) => f.file !== STORE_MODULE && /from '(level|classic-level|abstract-level)'/.test(f.text))
    .map((f) => f.file);
  t.deepEqual(direct, []);
});

test('the check catches a module opening a sublevel it does not own, by any spelling', (t) => {
  const table = { users: 'api/users.ts', bayes: 'classifier/model-store.ts' };
  const found = [
    ...openings('api/users.ts', "this.#db = store.sublevel<unknown>('users');"),
    ...openings('classifier/model-store.ts', 'this.db = store.sublevel<Value>("bayes");'),
    ...openings('api/tokens.ts', "this.#db = store.sublevel<Record<string, TokenRecord>>( 'users' );"),
    ...openings('cli/train.ts', 'const db = store.sublevel(name);'),
    ...openings('api/setup-state.ts', "store.sublevel('system')"),
  ];
  t.deepEqual(violations(found, table), [
    "api/tokens.ts: opens 'users', owned by api/users.ts",
    'cli/train.ts: opens a sublevel by a non-literal name',
    "api/setup-state.ts: opens 'system', which is not in SUBLEVELS",
  ]);
  t.deepEqual(violations(openings('api/users.ts', "store.sublevel('users')"), table), ['SUBLEVELS.bayes: its owner classifier/model-store.ts never opens it']);
});
