// The configuration reference is generated from the schema and must match it, and the whole
// project typechecks (strict): Node runs the TypeScript without checking types, so this does.
import { readFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { render } from '../../scripts/docs-config.ts';

const root = path.resolve(import.meta.dirname, '../..');

test('docs/config.md is up to date with the schema (npm run docs:config)', async (t) => {
  t.is(await readFile(path.join(root, 'docs/config.md'), 'utf8'), render());
});

test('the project typechecks with tsc --strict', async (t) => {
  const result = await promisify(execFile)(path.join(root, 'node_modules/.bin/tsc'), ['-p', root], { maxBuffer: 10 * 1024 * 1024 })
    .then(() => ({ code: 0, out: '' }), (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }));
  t.is(result.code, 0, result.out);
});
