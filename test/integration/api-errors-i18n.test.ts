// Every error the console API returns comes in the caller's language: a logged-in user's (or an
// API token's owner's) own language, else the request's Accept-Language, else English. A Japanese
// and an English user get the same code and path with the text in their language.
import test, { type ExecutionContext } from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { acceptedLanguage } from '../../appliance/api/errors.ts';
import { listsProvider } from '../../appliance/api/providers/lists.ts';
import type { Role } from '../../appliance/api/roles.ts';
import { ListsStore } from '../../appliance/lists/lists-store.ts';
import { openStore } from '../../appliance/store/store.ts';
import { makeConsole, PASSWORD, TWO_DOMAINS, type Caller, type Harness } from '../helpers/console-api.ts';

const JA_BROWSER = { 'accept-language': 'ja,en-US;q=0.9,en;q=0.8' };
const EN_BROWSER = { 'accept-language': 'en-GB,en;q=0.9' };

async function user(h: Harness, username: string, role: Role, language: 'ja' | 'en', domains?: string[]): Promise<Caller> {
  await h.server.context.users.create({ username, role, domains, password: PASSWORD, language });
  return h.login(username);
}

async function setup(t: ExecutionContext, config: object = TWO_DOMAINS) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-i18n-'));
  const store = await openStore(dataDir);
  t.teardown(async () => { await store.close(); await rm(dataDir, { recursive: true, force: true }); });
  const lists = await ListsStore.open(store);
  const h = await makeConsole(t, { config, providers: { lists: listsProvider(lists) } });
  return { h, lists };
}

test('a settings form: the same problem at the same field, in each admin\'s language', async (t) => {
  const { h } = await setup(t);
  const ja = await user(h, 'hanako', 'admin', 'ja');
  const en = await user(h, 'harry', 'admin', 'en');
  const value = { ...h.server.context.config.current.console, sessionIdleMinutes: 5000, language: 'fr' };
  // The user's own language wins over whatever the browser asks for.
  const jaRes = await h.request('PUT', '/api/system/config/console', { as: ja, body: { value }, headers: EN_BROWSER });
  const enRes = await h.request('PUT', '/api/system/config/console', { as: en, body: { value }, headers: JA_BROWSER });
  for (const res of [jaRes, enRes]) {
    t.is(res.status, 400);
    t.is(res.json.error.code, 'invalid');
  }
  const at = (res: typeof jaRes, p: string) => res.json.problems.find((x: { path: string }) => x.path === p);
  t.like(at(jaRes, '/sessionIdleMinutes'), { message: '1440 以下にしてください', key: 'problem.maximum', params: { limit: 1440 } });
  t.like(at(enRes, '/sessionIdleMinutes'), { message: 'must be <= 1440', key: 'problem.maximum' });
  t.like(at(jaRes, '/language'), { message: '次のいずれかを指定してください: ja, en', key: 'problem.one-of' });
  t.like(at(enRes, '/language'), { message: 'must be one of: ja, en' });
  t.is(jaRes.json.error.message, '入力内容に誤りがあります。各項目を確認してください。');
  t.is(enRes.json.error.message, 'The input is not valid; see the problems.');
  t.is(jaRes.json.problems.length, 2, 'a union of constants is one problem, not one per alternative');
});

test('request-schema (fastify) problems are translated by kind: required, too long, wrong type', async (t) => {
  const { h } = await setup(t);
  const ja = await user(h, 'hanako', 'admin', 'ja');
  const en = await user(h, 'harry', 'admin', 'en');
  const body = { username: 'x'.repeat(400), role: 'user' };
  const jaRes = await h.request('POST', '/api/users', { as: ja, body });
  const enRes = await h.request('POST', '/api/users', { as: en, body });
  t.is(jaRes.status, 400);
  t.is(enRes.status, 400);
  t.deepEqual(jaRes.json.problems.map((p: { path: string }) => p.path), enRes.json.problems.map((p: { path: string }) => p.path));
  const texts = (res: typeof jaRes) => res.json.problems.map((p: { message: string }) => p.message).join(' | ');
  t.regex(texts(jaRes), /入力してください|文字以内で入力してください/);
  t.regex(texts(enRes), /is required|must have at most 320 characters/);
  t.notRegex(texts(jaRes), /must/);

  const typed = await h.request('PATCH', '/api/me', { as: ja, body: { language: 'de' } });
  t.is(typed.status, 400);
  t.like(typed.json.problems[0], { path: '/language', message: '次のいずれかを指定してください: ja, en' });
});

test('forbidden and not found, for a Japanese and an English domain admin', async (t) => {
  const { h } = await setup(t);
  const ja = await user(h, 'jiro', 'domain-admin', 'ja', ['a.example']);
  const en = await user(h, 'jack', 'domain-admin', 'en', ['a.example']);
  for (const [who, lang] of [[ja, 'ja'], [en, 'en']] as const) {
    const forbidden = await h.request('GET', '/api/domains/b.example', { as: who });
    t.is(forbidden.status, 403);
    t.is(forbidden.json.error.code, 'forbidden');
    t.is(forbidden.json.error.key, 'api.forbidden.domain');
    t.is(forbidden.json.error.message, lang === 'ja' ? 'このアカウントではドメイン b.example にアクセスできません。' : 'Your account may not access the domain b.example.');

    const system = await h.request('GET', '/api/system/config', { as: who });
    t.is(system.status, 403);
    t.is(system.json.error.message, lang === 'ja' ? 'このアカウントではこの操作はできません。' : 'Your account may not do this.');

    const missing = await h.request('DELETE', '/api/lists/no-such-entry', { as: who });
    t.is(missing.status, 404);
    t.is(missing.json.error.code, 'not-found');
    t.is(missing.json.error.message, lang === 'ja' ? 'リストの項目が見つかりません。' : 'The list entry does not exist.');

    // No route, so no guard and no caller: only the browser's language is known.
    const route = await h.request('GET', '/api/nothing-here', { as: who, headers: lang === 'ja' ? JA_BROWSER : EN_BROWSER });
    t.is(route.status, 404);
    t.is(route.json.error.message, lang === 'ja' ? 'GET /api/nothing-here は存在しません。' : 'GET /api/nothing-here does not exist.');
  }
});

test('an API token speaks its owner\'s language', async (t) => {
  const { h } = await setup(t);
  const ja = await user(h, 'hanako', 'domain-admin', 'ja', ['a.example']);
  const made = await h.request('POST', '/api/tokens', { as: ja, body: { name: 'script', access: 'read' } });
  t.is(made.status, 201);
  const token = { token: made.json.secret as string };
  const res = await h.request('DELETE', '/api/lists/x', { as: token, headers: EN_BROWSER });
  t.is(res.status, 403);
  t.is(res.json.error.code, 'token-read-only');
  t.is(res.json.error.message, 'この API トークンは読み取り専用です。');
});

test('login failure and lock-out in the language the browser asks for; English without one', async (t) => {
  const { h } = await setup(t, { ...TWO_DOMAINS, console: { lockoutAttempts: 2, lockoutMinutes: 10 } });
  await h.server.context.users.create({ username: 'taro', role: 'admin', password: PASSWORD, language: 'ja' });
  await h.server.context.users.create({ username: 'tom', role: 'admin', password: PASSWORD, language: 'en' });
  const login = (username: string, password: string, headers: Record<string, string>) =>
    h.request('POST', '/api/session', { body: { username, password }, headers });

  const jaWrong = await login('taro', 'wrong password!', JA_BROWSER);
  const enWrong = await login('tom', 'wrong password!', EN_BROWSER);
  t.is(jaWrong.status, 401);
  t.is(enWrong.status, 401);
  t.is(jaWrong.json.error.code, 'bad-credentials');
  t.is(enWrong.json.error.code, 'bad-credentials');
  t.is(jaWrong.json.error.message, 'ユーザー名またはパスワードが違います。');
  t.is(enWrong.json.error.message, 'Wrong user name or password.');

  await login('taro', 'wrong password!', JA_BROWSER);
  await login('tom', 'wrong password!', EN_BROWSER);
  const jaLocked = await login('taro', PASSWORD, JA_BROWSER);
  const enLocked = await login('tom', PASSWORD, EN_BROWSER);
  t.is(jaLocked.status, 423);
  t.is(enLocked.status, 423);
  t.is(jaLocked.json.error.code, 'account-locked');
  t.is(jaLocked.json.error.message, 'パスワードの誤りが続いたため、このアカウントはロックされています。10 分後に再試行するか、管理者にロック解除を依頼してください。');
  t.is(enLocked.json.error.message, 'The account is locked after too many wrong passwords. Try again in 10 min, or ask an admin to unlock it.');

  const noHeader = await login('nobody', 'whatever pass', {});
  t.is(noHeader.json.error.message, 'Wrong user name or password.');
});

test('the 301st list entry is refused at the value field, in each user\'s language', async (t) => {
  const { h, lists } = await setup(t);
  const ja = await user(h, 'jiro', 'domain-admin', 'ja', ['a.example']);
  const en = await user(h, 'jack', 'domain-admin', 'en', ['a.example']);
  const ref = { direction: 'inbound', kind: 'sender-block', scope: 'domain', owner: 'a.example' } as const;
  const text = Array.from({ length: 300 }, (_, i) => `spammer${i}@x.test`).join('\n');
  t.is((await lists.import(ref, text)).added, 300);

  const jaRes = await h.request('POST', '/api/lists', { as: ja, body: { ...ref, value: 'one-more@x.test' } });
  const enRes = await h.request('POST', '/api/lists', { as: en, body: { ...ref, value: 'one-more@x.test' } });
  for (const res of [jaRes, enRes]) {
    t.is(res.status, 400);
    t.is(res.json.error.code, 'invalid');
    t.is(res.json.problems[0].path, '/value');
    t.is(res.json.problems[0].key, 'list.full');
  }
  t.is(jaRes.json.problems[0].message, 'このリスト（a.example の inbound / sender-block）はすでに上限の 300 件に達しています。不要な項目を削除してから追加してください');
  t.is(jaRes.json.error.message, jaRes.json.problems[0].message, 'the banner says it too');
  t.regex(enRes.json.problems[0].message, /already holds 300 entries, the most a list can hold/);

  const dup = await h.request('POST', '/api/lists', { as: ja, body: { ...ref, value: 'spammer1@x.test' } });
  t.is(dup.json.problems[0].message, '「spammer1@x.test」はすでにこのリストにあります');

  const imported = await h.request('POST', '/api/lists/import', { as: ja, body: { ...ref, text: 'later@x.test\n' } });
  t.is(imported.status, 200);
  t.is(imported.json.added, 0);
  t.regex(imported.json.skipped[0].error, /^このリスト（a\.example の inbound \/ sender-block）はすでに上限/);
  t.false('reason' in imported.json.skipped[0]);
});

test('not logged in: Accept-Language decides, over a real loopback connection', async (t) => {
  const { h } = await setup(t);
  await h.server.app.listen({ host: '127.0.0.1', port: 0 });
  const address = h.server.app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const ask = async (headers: Record<string, string>) => (await (await fetch(`${base}/api/users`, { headers })).json()) as { error: { code: string; message: string } };
  t.deepEqual(await ask({ 'accept-language': 'ja-JP' }), { error: { code: 'unauthenticated', message: 'ログインしてください（セッション Cookie または Authorization: Bearer トークンが必要です）。', key: 'api.unauthenticated' } } as never);
  t.is((await ask({ 'accept-language': 'en-US,ja;q=0.5' })).error.message, 'Log in first (session cookie or Authorization: Bearer token).');
  t.is((await ask({ 'accept-language': 'fr-FR, ja;q=0.3' })).error.message, 'ログインしてください（セッション Cookie または Authorization: Bearer トークンが必要です）。');
  t.is((await ask({ 'accept-language': 'de' })).error.message, 'Log in first (session cookie or Authorization: Bearer token).', 'English for any other language');
  t.is((await ask({})).error.message, 'Log in first (session cookie or Authorization: Bearer token).');
});

test('Accept-Language: q-values and region subtags', (t) => {
  t.is(acceptedLanguage('ja'), 'ja');
  t.is(acceptedLanguage('en-US,en;q=0.9,ja;q=0.8'), 'en');
  t.is(acceptedLanguage('ja;q=0.2, en;q=0.7'), 'en');
  t.is(acceptedLanguage('zh-CN, ja-JP;q=0.5'), 'ja');
  t.is(acceptedLanguage('ja;q=0, en;q=0.1'), 'en');
  t.is(acceptedLanguage('jav, eng'), 'en');
  t.is(acceptedLanguage(undefined), 'en');
});
