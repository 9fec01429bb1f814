// A console server on a fresh data directory, driven through fastify's inject() (no sockets),
// with helpers to log in as a role and make requests the way the web UI does (cookie + CSRF).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { ConfigService } from '../../appliance/config/config-service.ts';
import { createConsoleServer, type ConsoleDeps, type ConsoleServer } from '../../appliance/api/server.ts';
import type { Providers } from '../../appliance/api/providers/interfaces.ts';
import type { Role } from '../../appliance/api/roles.ts';
import type { Language } from '../../appliance/i18n/catalog.ts';
import { openStore } from '../../appliance/store/store.ts';

export const PASSWORD = 'correct horse battery';

export const TWO_DOMAINS = {
  hostname: 'mx.test.example',
  domains: [
    { name: 'a.example', routes: [{ host: '127.0.0.1', port: 2525 }] },
    { name: 'b.example', routes: [{ host: '127.0.0.1', port: 2526 }] },
  ],
};

export interface Harness {
  server: ConsoleServer;
  dataDir: string;
  request(method: string, url: string, opts?: { body?: unknown; as?: Caller; headers?: Record<string, string> }): Promise<{ status: number; json: any; headers: Record<string, unknown> }>;
  login(username: string, password?: string): Promise<Caller>;
  addUser(username: string, role: Role, domains?: string[]): Promise<string>;
}

export type Caller = { cookie?: string; csrf?: string; token?: string };

/** Server parts a test adds (system updates, signatures…), made once the data directory exists. */
type ExtraDeps = (dataDir: string) => Partial<ConsoleDeps> | Promise<Partial<ConsoleDeps>>;

export async function makeConsole(t: ExecutionContext, opts: { config?: unknown; setupDone?: boolean; providers?: Providers; deps?: ExtraDeps } = {}): Promise<Harness> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-api-'));
  const store = await openStore(dataDir);
  const config = await ConfigService.open(store);
  if (opts.config) await config.replace(opts.config);
  const server = await createConsoleServer({ ...(await opts.deps?.(dataDir)), store, config, dataDir, providers: opts.providers, log: () => undefined });
  if (opts.setupDone ?? true) await server.context.setup.complete('test');
  t.teardown(async () => {
    await server.close();
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const request: Harness['request'] = async (method, url, o = {}) => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.as?.cookie) headers.cookie = o.as.cookie;
    if (o.as?.csrf) headers['x-csrf-token'] = o.as.csrf;
    if (o.as?.token) headers.authorization = `Bearer ${o.as.token}`;
    const res = await server.app.inject({ method: method as 'GET', url, headers, ...(o.body !== undefined ? { payload: o.body as object } : {}) });
    let json: unknown;
    try { json = res.json(); } catch { json = res.body; }
    return { status: res.statusCode, json, headers: res.headers };
  };
  return {
    server,
    dataDir,
    request,
    async login(username, password = PASSWORD) {
      const res = await server.app.inject({ method: 'POST', url: '/api/session', payload: { username, password } });
      if (res.statusCode !== 200) throw new Error(`login ${username}: ${res.statusCode} ${res.body}`);
      const cookie = res.cookies.find((c) => c.name === 'mm_session');
      return { cookie: `mm_session=${cookie!.value}`, csrf: res.json().csrfToken };
    },
    async addUser(username, role, domains) {
      const u = await server.context.users.create({ username, role, domains, password: PASSWORD, language: 'en' });
      return u.id;
    },
  };
}

/** A caller's session as the headers of an inject() request (cookie and CSRF token). */
export function sessionHeaders(c: Caller): Record<string, string> {
  return { cookie: c.cookie ?? '', 'x-csrf-token': c.csrf ?? '' };
}

/**
 * The appliance admin (root) and a domain admin of no domain (alice, for the refusals of admin-only
 * routes), logged in; their sessions as inject() headers.
 */
export async function adminAndDomainAdmin(h: Harness): Promise<{ root: Record<string, string>; alice: Record<string, string> }> {
  await h.addUser('root', 'admin');
  await h.addUser('alice', 'domain-admin', []);
  return { root: sessionHeaders(await h.login('root')), alice: sessionHeaders(await h.login('alice')) };
}

/**
 * Log-in and GET through the inject() of any console server, such as a whole test appliance's:
 * `login` returns the session cookie for the request header (and fails the test's set-up when the
 * password is refused), `get` the reply as it came.
 */
export function injectClient(server: ConsoleServer) {
  return {
    async login(username: string, password = PASSWORD): Promise<string> {
      const res = await server.app.inject({ method: 'POST', url: '/api/session', payload: { username, password } });
      if (res.statusCode !== 200) throw new Error(`login ${username}: ${res.statusCode} ${res.body}`);
      return `mm_session=${res.cookies.find((c) => c.name === 'mm_session')!.value}`;
    },
    async get(cookie: string, url: string): Promise<{ status: number; body: string; headers: Record<string, unknown>; json: () => any }> {
      const res = await server.app.inject({ method: 'GET', url, headers: { cookie } });
      return { status: res.statusCode, body: res.body, headers: res.headers, json: () => res.json() };
    },
  };
}

/**
 * A console with the two domains' people logged in: the appliance admin (root), a domain admin
 * of each domain (alice for a.example, bob for b.example) and a mailbox user of each (carol, dave).
 */
export async function withPeople(t: ExecutionContext) {
  const h = await makeConsole(t, { config: TWO_DOMAINS });
  await h.addUser('root', 'admin');
  await h.addUser('alice', 'domain-admin', ['a.example']);
  await h.addUser('bob', 'domain-admin', ['b.example']);
  await h.addUser('carol@a.example', 'user');
  await h.addUser('dave@b.example', 'user');
  return { h, root: await h.login('root'), alice: await h.login('alice'), bob: await h.login('bob'), carol: await h.login('carol@a.example'), dave: await h.login('dave@b.example') };
}

/**
 * The two domains' people on any console server, such as a whole test appliance's: setup ended,
 * the appliance admin root, the domain admins alice (a.example) and bob (b.example), the mailbox
 * user carol@a.example; `login` (failing the test when refused) and `request` as the web UI makes
 * them (session cookie and CSRF token).
 */
export async function twoDomainPeople(t: ExecutionContext, server: ConsoleServer, opts: { bobLanguage?: Language } = {}) {
  await server.context.setup.complete('test');
  const people: [string, Role, string[] | undefined, Language][] = [
    ['root', 'admin', undefined, 'en'], ['alice', 'domain-admin', ['a.example'], 'en'],
    ['bob', 'domain-admin', ['b.example'], opts.bobLanguage ?? 'en'], ['carol@a.example', 'user', undefined, 'en'],
  ];
  for (const [username, role, domains, language] of people) await server.context.users.create({ username, role, domains, password: PASSWORD, language });
  return {
    async login(username: string): Promise<Required<Pick<Caller, 'cookie' | 'csrf'>>> {
      const res = await server.app.inject({ method: 'POST', url: '/api/session', payload: { username, password: PASSWORD } });
      t.is(res.statusCode, 200, res.body);
      return { cookie: `mm_session=${res.cookies.find((c) => c.name === 'mm_session')!.value}`, csrf: res.json().csrfToken };
    },
    async request(as: Caller, method: 'GET' | 'POST', url: string, body?: object): Promise<{ status: number; json: any }> {
      const res = await server.app.inject({ method, url, headers: { cookie: as.cookie ?? '', 'x-csrf-token': as.csrf ?? '' }, ...(body ? { payload: body } : {}) });
      return { status: res.statusCode, json: res.json() };
    },
  };
}
