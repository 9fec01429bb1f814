// A configuration stored by an earlier version still opens after a rule was added: the single-label
// host name earlier images stored is qualified (and said), anything else stays as it was.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigService } from '../../appliance/config/config-service.ts';
import { HOST_NAME, qualifiedHostname } from '../../appliance/config/patterns.ts';
import { openStore } from '../../appliance/store/store.ts';

test('a stored single-label host name is qualified under .localdomain, logged and stored once', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mm-config-upgrade-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(dir);
  t.teardown(() => store.close());
  await store.sublevel<unknown>('config').put('current', { hostname: 'mailmoat', time: { timezone: 'Europe/Berlin' } });
  const lines: string[] = [];
  const config = await ConfigService.open(store, undefined, { say: (l) => lines.push(l) });
  t.is(config.current.hostname, 'mailmoat.localdomain');
  t.is(config.current.time.timezone, 'Europe/Berlin', 'other settings are kept');
  t.is(lines.length, 1);
  t.regex(lines[0], /"mailmoat".*"mailmoat\.localdomain"/);
  const again: string[] = [];
  await ConfigService.open(store, undefined, { say: (l) => again.push(l) });
  t.deepEqual(again, [], 'the upgraded document was stored: nothing to say the second time');
});

test('a stored host name that is not a single label and not valid is still refused with its path', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mm-config-upgrade-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(dir);
  t.teardown(() => store.close());
  await store.sublevel<unknown>('config').put('current', { hostname: '-bad host name-' });
  const err = await t.throwsAsync(ConfigService.open(store));
  t.regex(err!.message, /\/hostname/);
});

test('one rule qualifies host names, for a fresh box and for stored ones: a full name is kept, anything else becomes a valid name', (t) => {
  t.is(qualifiedHostname('mx.example.com'), 'mx.example.com');
  t.is(qualifiedHostname('mailmoat'), 'mailmoat.localdomain');
  t.is(qualifiedHostname('Build_Box 7.internal1'), 'build-box-7.localdomain');
  t.is(qualifiedHostname('---'), 'mailmoat.localdomain');
  for (const name of ['x'.repeat(80), 'ünïcode', '', 'a.b']) t.regex(qualifiedHostname(name), new RegExp(HOST_NAME), name);
});
