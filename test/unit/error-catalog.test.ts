// The API's error texts: each one is in Japanese as well as English with the same placeholders,
// every key the code names exists, every key in the catalog is used, and every kind of schema
// error becomes a translated problem.
import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { schemaProblems } from '../../appliance/config/problems.ts';
import { validateConfig } from '../../appliance/config/validate.ts';
import { errorCatalog, errorText, isErrorKey, type ErrorKey } from '../../appliance/i18n/server-messages.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const keys = Object.keys(errorCatalog.en) as ErrorKey[];
const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

async function sources(): Promise<{ file: string; text: string }[]> {
  const out: { file: string; text: string }[] = [];
  for (const dir of ['appliance', 'web-ui/src']) {
    for (const entry of await readdir(path.join(ROOT, dir), { recursive: true })) {
      if (!entry.endsWith('.ts') || entry.endsWith(path.join('i18n', 'server-messages.ts'))) continue;
      out.push({ file: path.join(dir, entry), text: await readFile(path.join(ROOT, dir, entry), 'utf8') });
    }
  }
  return out;
}

test('every error text is in Japanese too, with the same placeholders as the English', (t) => {
  t.true(keys.length > 50);
  for (const key of keys) {
    const ja = errorCatalog.ja[key];
    t.truthy(ja, key);
    t.regex(ja, /[\u3040-\u30ff\u4e00-\u9fff]/, `${key} is written in Japanese`);
    t.deepEqual(placeholders(ja), placeholders(errorCatalog.en[key]), `${key}: same placeholders`);
  }
});

test('every error key the code names exists, and every key in the catalog is used', async (t) => {
  const files = await sources();
  const named = new Set<string>();
  for (const { file, text } of files) {
    // Keys are passed as literals ('api.forbidden') or built from a schema keyword (`problem.${kind}`).
    for (const m of text.matchAll(/['`]((?:api|problem|list|training-result|route-test|local)\.[a-z][\w.-]*|(?:quarantine|queue)\.[a-z-]+)['`]/g)) {
      if (/^(quarantine|queue)\./.test(m[1]) && !/LocalizedError|QuarantineError/.test(text)) continue; // the UI catalog's quarantine.* and queue.* keys
      named.add(m[1]);
      t.true(isErrorKey(m[1]), `${file} names ${m[1]}, which the error catalog lacks`);
    }
  }
  const built = (key: string) => /^problem\.type\.\w+$/.test(key) ||
    ['problem.minimum', 'problem.maximum', 'problem.exclusiveMinimum', 'problem.exclusiveMaximum', 'problem.minLength', 'problem.maxLength', 'problem.minItems', 'problem.maxItems'].includes(key);
  for (const key of keys) t.true(named.has(key) || built(key), `${key} is never used`);
});

test('every kind of schema error becomes a problem with a key, from TypeBox and from Ajv alike', (t) => {
  const errors = [
    { keyword: 'required', instancePath: '/a', params: { requiredProperties: ['b', 'c'] } },
    { keyword: 'required', instancePath: '', params: { missingProperty: 'd' } },
    { keyword: 'type', instancePath: '/n', params: { type: 'integer' } },
    { keyword: 'minimum', instancePath: '/n1', params: { comparison: '>=', limit: 1 } },
    { keyword: 'maximum', instancePath: '/n2', params: { comparison: '<=', limit: 5 } },
    { keyword: 'exclusiveMinimum', instancePath: '/n3', params: { limit: 0 } },
    { keyword: 'minLength', instancePath: '/s1', params: { limit: 2 } },
    { keyword: 'maxLength', instancePath: '/s2', params: { limit: 3 } },
    { keyword: 'pattern', instancePath: '/s3', params: { pattern: '^x' } },
    { keyword: 'format', instancePath: '/s4', params: { format: 'email' } },
    { keyword: 'enum', instancePath: '/e1', params: { allowedValues: ['x', 'y'] } },
    { keyword: 'const', instancePath: '/u', params: { allowedValue: 'p' } },
    { keyword: 'const', instancePath: '/u', params: { allowedValue: 'q' } },
    { keyword: 'anyOf', instancePath: '/u', params: {} },
    { keyword: 'minItems', instancePath: '/l1', params: { limit: 1 } },
    { keyword: 'maxItems', instancePath: '/l2', params: { limit: 300 } },
    { keyword: 'uniqueItems', instancePath: '/l3', params: { i: 0, j: 1 } },
    { keyword: 'additionalProperties', instancePath: '', params: { additionalProperties: ['x', 'y'] } },
    { keyword: 'boolean', instancePath: '/x', params: {} },
    { keyword: 'additionalProperties', instancePath: '/o', params: { additionalProperty: 'z' } },
    { keyword: 'dependentRequired', instancePath: '/w', params: {} },
  ];
  const problems = schemaProblems(errors);
  const byPath = Object.fromEntries(problems.map((p) => [p.path, p]));
  t.deepEqual(Object.keys(byPath).sort(), ['/', '/a/b', '/a/c', '/d', '/e1', '/l1', '/l2', '/l3', '/n', '/n1', '/n2', '/n3', '/o', '/s1', '/s2', '/s3', '/s4', '/u', '/w'].sort());
  t.is(problems.length, 19, 'one problem per path here; the union and the unknown key are not repeated');
  t.is(byPath['/u'].key, 'problem.one-of');
  t.is(errorText('ja', byPath['/u']), '次のいずれかを指定してください: p, q');
  t.is(byPath['/l2'].message, 'can hold at most 300 entries');
  t.is(errorText('ja', byPath['/l2']), '300 件までしか指定できません');
  t.is(errorText('ja', byPath['/n']), '整数で入力してください');
  t.is(errorText('ja', byPath['/']), '不明なキーです: x, y');
  t.is(byPath['/w'].key, 'problem.invalid');
  for (const p of problems) t.not(errorText('ja', p), p.message, `${p.path} (${p.key}) is translated`);
});

test('configuration problems keep their English for the CLI and carry keys for the console', (t) => {
  const result = validateConfig({
    hostname: 'mx.example.jp',
    domains: [{ name: 'example.jp', routes: [{ host: '192.0.2.10', port: 70000 }] }],
    console: { language: 'fr' },
    bogus: 1,
  });
  t.false(result.ok);
  if (result.ok) return;
  t.like(result.problems.find((p) => p.path === '/domains/0/routes/0/port'), { message: 'must be <= 65535', key: 'problem.maximum', params: { limit: 65535 } });
  t.like(result.problems.find((p) => p.path === '/'), { message: 'unknown key(s): bogus', key: 'problem.unknown-keys' });
  t.like(result.problems.find((p) => p.path === '/console/language'), { message: 'must be one of: ja, en' });

  const semantic = validateConfig({ hostname: 'mx.example.jp', domains: [{ name: 'a.example', routes: [{ host: '192.0.2.1', port: 25 }] }, { name: 'A.example', routes: [{ host: '192.0.2.1', port: 25 }] }] });
  t.false(semantic.ok);
  if (semantic.ok) return;
  t.like(semantic.problems[0], { path: '/domains/1/name', key: 'problem.already-served', message: 'A.example is already served (at /domains/0/name)' });
  t.is(errorText('ja', semantic.problems[0]), 'A.example はすでに登録されています（/domains/0/name）');
});

test('every problem of a configuration is listed in one pass, past a wrong class name', (t) => {
  const result = validateConfig({
    filtering: { rules: [{ class: 'Spamm', action: 'quarantine' }], spamThreshold: 120, outboundRules: [{ class: 'Spam', action: 'explode' }] },
    limits: { maxMessageBytes: 1 },
  });
  t.false(result.ok);
  const paths = result.ok ? [] : result.problems.map((p) => p.path);
  for (const path of ['/filtering/rules/0/class', '/filtering/spamThreshold', '/filtering/outboundRules/0/action', '/limits/maxMessageBytes']) t.true(paths.includes(path), path);
});
