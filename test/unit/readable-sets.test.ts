// Which sets of domains someone can read together (appliance/api/guard.ts readableDomainSets), over
// a real store: a domain admin's domains, an admin's domain-limited token's, a domain admin's token
// narrowed to the account's own domains; and UserStore.watch, which every UserStore of the store
// tells of a change before the change resolves (so the statistics follow an account from the
// moment it is saved).
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readableDomainSets } from '../../appliance/api/guard.ts';
import { UserStore } from '../../appliance/api/users.ts';
import { SessionStore } from '../../appliance/api/sessions.ts';
import { openStore } from '../../appliance/store/store.ts';

test('readable sets follow the accounts and tokens, told to watchers before each change resolves', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-readable-sets-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const store = await openStore(dataDir);
  t.teardown(() => store.close());
  const consoleUsers = new UserStore(store);
  const daemon = new UserStore(store);
  let seen: string[][] = [];
  const stop = UserStore.watch(store, async () => { seen = await readableDomainSets(daemon); });

  const root = await consoleUsers.create({ username: 'root', role: 'admin', password: 'pw-123456789', language: 'en' });
  t.deepEqual(seen, []);
  const dora = await consoleUsers.create({ username: 'dora', role: 'domain-admin', domains: ['A.example', 'b.example'], password: 'pw-123456789', language: 'en' });
  t.deepEqual(seen, [['a.example', 'b.example']], 'the console\'s change, seen through another UserStore as it resolves');
  await consoleUsers.tokens.create({ userId: root.id, name: 'cd', access: 'read', domains: ['c.example', 'd.example'] });
  await consoleUsers.tokens.create({ userId: dora.id, name: 'ax', access: 'read', domains: ['a.example', 'x.example'] });
  t.deepEqual(seen, [['a.example', 'b.example'], ['c.example', 'd.example'], ['a.example']], 'a domain admin\'s token reaches only the account\'s domains');
  await consoleUsers.save({ ...dora, domains: ['b.example', 'e.example'] });
  t.deepEqual(seen[0], ['b.example', 'e.example']);
  let told = 0;
  const stopCounting = UserStore.watch(store, async () => { told++; });
  const moved = (await consoleUsers.byId(dora.id))!;
  await consoleUsers.save({ ...moved, failedLogins: 3 });
  await consoleUsers.saveEndingSessions({ ...moved, language: 'ja' }, new SessionStore(store, () => 60));
  t.is(told, 0, 'a failed log-in or a language saved changes no one\'s reach: nobody is told');
  await consoleUsers.save({ ...moved, role: 'user', domains: [] });
  t.is(told, 1, 'another role is told');
  t.deepEqual(seen, [['c.example', 'd.example']], 'dora reads no domain as a mailbox user');
  await consoleUsers.save(moved);
  stopCounting();
  await consoleUsers.remove(dora, new SessionStore(store, () => 60));
  t.deepEqual(seen, [['c.example', 'd.example']], 'the account went with its token');
  stop();
  await consoleUsers.create({ username: 'erin', role: 'domain-admin', domains: ['f.example', 'g.example'], password: 'pw-123456789', language: 'en' });
  t.deepEqual(seen, [['c.example', 'd.example']], 'no longer watched');
});
