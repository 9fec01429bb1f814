// Time zone names in the configuration: the appliance's and each domain's must be zones this
// Node.js knows (or UTC). An unknown name is refused at its path — by the validator, by
// `mailmoat check-config` in English, and by the console API in the caller's language.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { validateConfig } from '../../appliance/config/validate.ts';
import { isKnownTimeZone, knownTimeZones } from '../../appliance/config/timezones.ts';
import { makeConsole, TWO_DOMAINS } from '../helpers/console-api.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const domain = (timezone?: string) => ({ name: 'example.com', routes: [{ host: '192.0.2.10', port: 25 }], ...(timezone ? { timezone } : {}) });

test('the known zones are the IANA zones plus UTC', (t) => {
  for (const zone of ['Asia/Tokyo', 'America/New_York', 'Europe/London', 'UTC']) t.true(isKnownTimeZone(zone), zone);
  // current names Node's list leaves out (it lists Asia/Calcutta, not Asia/Kolkata)
  for (const zone of ['Asia/Kolkata', 'Etc/UTC', 'GMT']) t.true(isKnownTimeZone(zone), zone);
  for (const zone of ['Asia/Tokio', 'Mars/Olympus', 'JST', '+09:00', 'asia/tokyo', '']) t.false(isKnownTimeZone(zone), zone);
  t.true(knownTimeZones().includes('UTC'));
  t.deepEqual(knownTimeZones(), [...knownTimeZones()].sort());
});

test('the validator refuses an unknown zone at its path, the appliance\'s and each domain\'s', (t) => {
  t.true(validateConfig({ time: { timezone: 'UTC' }, domains: [domain('America/New_York')] }).ok);
  const result = validateConfig({ time: { timezone: 'Asia/Tokio' }, domains: [domain('Europe/London'), domain('Mars/Olympus')] });
  t.false(result.ok);
  const problems = result.ok ? [] : result.problems;
  t.deepEqual(problems.map((p) => [p.path, p.key, p.params]), [
    ['/time/timezone', 'problem.unknown-time-zone', { zone: 'Asia/Tokio' }],
    ['/domains/1/timezone', 'problem.unknown-time-zone', { zone: 'Mars/Olympus' }],
  ]);
  // Reported together with the schema's problems, so one pass over the file finds everything.
  const mixed = validateConfig({ time: { timezone: 'Nowhere' }, listeners: { inbound: { port: 70000 } } });
  t.deepEqual(mixed.ok ? [] : mixed.problems.map((p) => p.path).sort(), ['/listeners/inbound/port', '/time/timezone']);
});

test('mailmoat check-config names the field and the zone in English', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-tz-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'zones.yaml');
  await writeFile(file, ['hostname: mx.example.com', 'time: { timezone: Asia/Tokio }', 'domains:', '  - name: example.com',
    '    routes: [{ host: 192.0.2.10, port: 25 }]', '    timezone: Mars/Olympus'].join('\n'));
  const node = path.join(root, 'node_modules/.bin/node');
  const res = await run(node, [path.join(root, 'bin/mailmoat.js'), 'check-config', file]).catch((e: { code: number; stderr: string }) => e);
  t.is((res as { code: number }).code, 1);
  const stderr = (res as { stderr: string }).stderr;
  t.regex(stderr, /\/time\/timezone: "Asia\/Tokio" is not a known time zone; use an IANA name such as Asia\/Tokyo/);
  t.regex(stderr, /\/domains\/0\/timezone: "Mars\/Olympus" is not a known time zone/);
});

test('the console API refuses an unknown domain zone next to the field, in the caller\'s language, and offers the known zones', async (t) => {
  const h = await makeConsole(t, { config: TWO_DOMAINS });
  await h.addUser('root', 'admin');
  const root = await h.login('root');
  const list = await h.request('GET', '/api/domains', { as: root });
  t.deepEqual(list.json.timezones, knownTimeZones());
  const body = { name: 'a.example', routes: [{ host: '127.0.0.1', port: 2525 }], timezone: 'Asia/Tokio' };
  const en = await h.request('PUT', '/api/domains/a.example', { as: root, body });
  t.is(en.status, 400);
  t.deepEqual(en.json.problems.map((p: { path: string }) => p.path), ['/timezone']);
  t.is(en.json.problems[0].message, '"Asia/Tokio" is not a known time zone; use an IANA name such as Asia/Tokyo, America/New_York or UTC');
  await h.request('PATCH', '/api/me', { as: root, body: { language: 'ja' } });
  const ja = await h.request('PUT', '/api/domains/a.example', { as: root, body });
  t.regex(ja.json.problems[0].message, /^「Asia\/Tokio」は不明なタイムゾーンです/);
  t.is(h.server.context.config.current.domains[0].timezone, undefined, 'nothing was saved');
  t.is((await h.request('PUT', '/api/domains/a.example', { as: root, body: { ...body, timezone: 'Asia/Tokyo' } })).status, 200);
  // The replies' schemas (the configuration's Domain) keep every field of the stored domain.
  const stored = h.server.context.config.current.domains[0];
  t.deepEqual((await h.request('GET', '/api/domains/a.example', { as: root })).json.domain, stored);
  t.deepEqual((await h.request('GET', '/api/domains', { as: root })).json.items[0], stored);
  t.is(stored.timezone, 'Asia/Tokyo');
  // The appliance's zone through the system settings.
  const time = await h.request('PUT', '/api/system/config/time', { as: root, body: { value: { timezone: 'Tokyo', ntpServers: [] } } });
  t.is(time.status, 400, JSON.stringify(time.json));
  t.true(time.json.problems.some((p: { path: string; params?: { zone: string } }) => p.path.endsWith('/timezone') && p.params?.zone === 'Tokyo'));
});
