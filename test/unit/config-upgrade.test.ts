// A configuration stored by an earlier version still opens after a rule was added: the single-label
// host name earlier images stored is qualified (and said), a domain's greylisting switch and notice
// contact move into the domain's policy, anything else stays as it was.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { ConfigService } from '../../appliance/config/config-service.ts';
import { domainContact, effectiveFiltering } from '../../appliance/policy/policy.ts';
import { HOST_NAME, qualifiedHostname } from '../../appliance/config/patterns.ts';
import { openStore } from '../../appliance/store/store.ts';

test('a stored single-label host name is qualified under .localdomain and logged; the stored document is left for a fallback until saved', async (t) => {
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
  t.deepEqual(await store.sublevel<unknown>('config').get('current'), { hostname: 'mailmoat', time: { timezone: 'Europe/Berlin' } },
    'an earlier system falling back still reads what it wrote');
  const again: string[] = [];
  const reopened = await ConfigService.open(store, undefined, { say: (l) => again.push(l) });
  t.is(again.length, 1, 'said again while the earlier form is stored');
  await reopened.replace({ ...reopened.current, time: { ...reopened.current.time, timezone: 'Asia/Tokyo' } });
  const third: string[] = [];
  t.is((await ConfigService.open(store, undefined, { say: (l) => third.push(l) })).current.hostname, 'mailmoat.localdomain');
  t.deepEqual(third, [], 'the next save stores the upgraded form: nothing to say after it');
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

test('a domain\'s greylisting switch of earlier versions becomes its policy setting, stored and in a configuration file; a policy value already set wins', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mm-config-upgrade-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const routes = [{ host: '127.0.0.1', port: 2525 }];
  const old = {
    filtering: { greylisting: { enabled: true } },
    domains: [{ name: 'off.example', routes, greylisting: false }, { name: 'on.example', routes }, { name: 'both.example', routes, greylisting: false }],
    policy: { domains: { 'both.example': { greylisting: true, spamThreshold: 80 } } },
  };
  const store = await openStore(path.join(dir, 'stored'));
  t.teardown(() => store.close());
  await store.sublevel<unknown>('config').put('current', old);
  const lines: string[] = [];
  const stored = (await ConfigService.open(store, undefined, { say: (l) => lines.push(l) })).current;
  const file = path.join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(old));
  const fileStore = await openStore(path.join(dir, 'from-file'));
  t.teardown(() => fileStore.close());
  const fromFile = (await ConfigService.open(fileStore, file)).current;
  for (const cfg of [stored, fromFile]) {
    t.false('greylisting' in cfg.domains[0], 'the domain no longer carries the switch');
    t.deepEqual(cfg.policy.domains['off.example'], { greylisting: false });
    t.like(cfg.policy.domains['both.example'], { greylisting: true, spamThreshold: 80 });
    const greylisted = (address: string) => effectiveFiltering(cfg, { address, domain: address.split('@')[1] }).greylisting.enabled;
    t.false(greylisted('a@off.example'));
    t.true(greylisted('a@on.example'));
    t.true(greylisted('a@both.example'));
  }
  t.is(lines.length, 2);
  t.regex(lines[0], /domain off\.example: its greylisting switch \(false\) is now .*policy\.domains\["off\.example"\]\.greylisting/);
});

test('a domain\'s notice contact of earlier versions becomes its policy contact, which receives every notice; where both were set the policy\'s wins and the dropped one is named', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mm-config-upgrade-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const routes = [{ host: '127.0.0.1', port: 2525 }];
  const store = await openStore(dir);
  t.teardown(() => store.close());
  await store.sublevel<unknown>('config').put('current', {
    postmaster: 'postmaster@box.example',
    domains: [
      { name: 'one.example', routes, reports: { contact: 'it@one.example', digest: { enabled: true } } },
      { name: 'two.example', routes, reports: { contact: 'old@two.example' } },
      { name: 'three.example', routes },
    ],
    policy: { domains: { 'two.example': { contact: 'new@two.example' } } },
  });
  const lines: string[] = [];
  const cfg = (await ConfigService.open(store, undefined, { say: (l) => lines.push(l) })).current;
  t.false('contact' in cfg.domains[0].reports);
  t.true(cfg.domains[0].reports.digest.enabled, 'the rest of the reports settings stay');
  t.is(domainContact(cfg, 'one.example'), 'it@one.example');
  t.is(domainContact(cfg, 'two.example'), 'new@two.example');
  t.is(domainContact(cfg, 'three.example'), 'postmaster@box.example');
  t.is(lines.length, 2);
  t.regex(lines[1], /old@two\.example was dropped/);
});
