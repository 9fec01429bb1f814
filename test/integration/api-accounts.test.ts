// Accounts as one store: deleting an account takes its API tokens and its sessions with it (one
// atomic operation of api/users.ts), leaving other accounts' alone. (Restoring accounts from a
// backup: test/integration/backup-restore.test.ts.)
import test from 'ava';
import { withPeople } from '../helpers/console-api.ts';

test('deleting an account revokes its tokens and ends its sessions; other accounts keep theirs', async (t) => {
  const { h, root, carol, dave } = await withPeople(t);
  const carolToken = (await h.request('POST', '/api/tokens', { as: carol, body: { name: 'script', access: 'read' } })).json.secret as string;
  const daveToken = (await h.request('POST', '/api/tokens', { as: dave, body: { name: 'script', access: 'read' } })).json.secret as string;
  t.is((await h.request('GET', '/api/session', { as: { token: carolToken } })).status, 200);
  const users = (await h.request('GET', '/api/users', { as: root })).json.items as { id: string; username: string }[];
  const carolId = users.find((u) => u.username === 'carol@a.example')!.id;

  t.is((await h.request('DELETE', `/api/users/${carolId}`, { as: root })).status, 200);

  t.is((await h.request('GET', '/api/session', { as: carol })).status, 401);
  t.is((await h.request('GET', '/api/session', { as: { token: carolToken } })).status, 401);
  t.is((await h.request('GET', '/api/session', { as: dave })).status, 200);
  t.is((await h.request('GET', '/api/session', { as: { token: daveToken } })).status, 200);
  t.deepEqual(await h.server.context.tokens.list(carolId), []);
  t.is((await h.server.context.tokens.list()).length, 1);
});

test('every password change or reset through the console API ends the account\'s other sessions', async (t) => {
  const { h, root, alice, bob, carol } = await withPeople(t);
  const users = (await h.request('GET', '/api/users', { as: root })).json.items as { id: string; username: string }[];
  const idOf = (name: string) => users.find((u) => u.username === name)!.id;
  const alive = async (who: { cookie?: string }) => (await h.request('GET', '/api/session', { as: who })).status === 200;

  // An admin sets another account's password: all of that account's sessions end.
  const alice2 = await h.login('alice');
  t.is((await h.request('PATCH', `/api/users/${idOf('alice')}`, { as: root, body: { password: 'a brand new password' } })).status, 200);
  t.false(await alive(alice));
  t.false(await alive(alice2));
  t.true(await alive(root));
  t.true(await alive(bob), 'other accounts keep theirs');
  t.true(await alive(await h.login('alice', 'a brand new password')));

  // An admin changes its own password: its other sessions end, the one it used stays.
  const root2 = await h.login('root');
  t.is((await h.request('PATCH', `/api/users/${idOf('root')}`, { as: root, body: { password: 'root has a new one' } })).status, 200);
  t.true(await alive(root));
  t.false(await alive(root2));

  // A user changes its own password: the same.
  const carol2 = await h.login('carol@a.example');
  t.is((await h.request('PATCH', '/api/me', { as: carol, body: { currentPassword: 'correct horse battery', newPassword: 'carol picks another' } })).status, 200);
  t.true(await alive(carol));
  t.false(await alive(carol2));

  // Disabling an account ends its sessions too.
  t.is((await h.request('PATCH', `/api/users/${idOf('bob')}`, { as: root, body: { disabled: true } })).status, 200);
  t.false(await alive(bob));
});
