// The imports under appliance/ run one way, as the mail does:
//   smtp → accept → (spool, pipeline) → (quarantine, delivery) → store,
// with the shared folders below the mail path (lists, logsearch, stats, classifier, message,
// config, i18n, and the infrastructure every part may use: dns, csv, limits, runtime) and the entry points
// (main.ts, cli, api, console, system) above it; reports sits above the quarantine it acts on. A folder may import only folders on a lower rank;
// type-only imports count too, since they tie the folders as much.
import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

const APPLIANCE = path.resolve(import.meta.dirname, '../../appliance');

/** Rank of each folder: an import must go to a strictly lower rank (or stay in its folder). */
const RANK: Record<string, number> = {
  cli: 9, 'main.ts': 8, console: 7, api: 6, system: 5,
  smtp: 5, accept: 4, spool: 3, pipeline: 3, reports: 3, quarantine: 2, delivery: 2,
  lists: 1, logsearch: 1, stats: 1.5, classifier: 1,
  message: 0.75, policy: 0.6, config: 0.5, i18n: 0, store: 0, dns: 0, csv: 0, limits: 0, runtime: 0,
  // Backup copies the store and the data folder's files; the API, main.ts and the CLI call it.
  backup: 1,
};

/** Imports that break the ranks, as `from → to (file)`. */
function backwards(imports: { file: string; target: string }[]): string[] {
  const out: string[] = [];
  for (const { file, target } of imports) {
    const from = file.split('/')[0];
    const to = target.split('/')[0];
    if (from === to) continue;
    if (!(from in RANK) || !(to in RANK)) out.push(`${from} → ${to} (${file}): a folder not in the ranks; give it one`);
    else if (RANK[to] >= RANK[from]) out.push(`${from} → ${to} (${file})`);
  }
  return out;
}

async function imports(): Promise<{ file: string; target: string }[]> {
  const out: { file: string; target: string }[] = [];
  for (const entry of await readdir(APPLIANCE, { recursive: true })) {
    if (!entry.endsWith('.ts')) continue;
    const file = entry.split(path.sep).join('/');
    const text = await readFile(path.join(APPLIANCE, entry), 'utf8');
    for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]));
      if (!target.startsWith('..')) out.push({ file, target });
    }
  }
  return out;
}

test('no folder under appliance/ imports a folder above it on the mail path (type-only imports included)', async (t) => {
  const found = await imports();
  t.true(found.length > 100);
  t.deepEqual(backwards(found), []);
});

test('the check catches an import that runs back up, and a folder left out of the ranks', (t) => {
  t.deepEqual(backwards([
    { file: 'delivery/queue.ts', target: 'smtp/recipient-policy.ts' },
    { file: 'spool/queue-record.ts', target: 'message/message.ts' },
    { file: 'pipeline/lists.ts', target: 'pipeline/message-context.ts' },
    { file: 'widgets/digest.ts', target: 'store/store.ts' },
  ]), [
    'delivery → smtp (delivery/queue.ts)',
    'widgets → store (widgets/digest.ts): a folder not in the ranks; give it one',
  ]);
});
