// The one guard in front of every API route. Each route under /api declares `config.access`:
// the roles it admits ('public', 'setup', 'any' logged-in user, or a list of roles) and, when it
// acts on particular domains or mailboxes, a `targets` function naming them. A route without a
// declaration is refused at startup, so nothing is reachable by accident. The guard:
//   1. authenticates (session cookie, or `Authorization: Bearer` API token),
//   2. refuses cross-site writes (Origin check; CSRF token for cookie sessions),
//   3. enforces setup mode (only the wizard before setup; never the wizard after),
//   4. checks role and every target against the caller's scope (roles.ts),
//   5. writes an audit record for every successful change.
// Authentication, setup mode and role are decided in onRequest (before the body is read);
// targets, which may depend on the validated body or a stored record, in preHandler.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyInstance, FastifyReply, FastifyRequest, FastifySchema, RawRequestDefaultExpression, RawServerDefault, RouteGenericInterface,
} from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { accountDomains, type AuditLog } from './audit.ts';
import { ApiError, forbidden, unauthenticated } from './errors.ts';
import { actorName, canReach, domainOf, type Principal, type Role, type Target } from './roles.ts';
import type { SessionRecord, SessionStore } from './sessions.ts';
import type { SetupState } from './setup-state.ts';
import type { TokenStore, UserRecord, UserStore } from './users.ts';

export const SESSION_COOKIE = 'mm_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface Access {
  roles: readonly Role[] | 'public' | 'setup' | 'any';
  /**
   * The domains / mailboxes / system the request acts on; each must be within the caller's scope.
   * Runs in preHandler, after the route's schemas validated the request, so it may take the request
   * as those schemas type it (`SchemaRequest<typeof schema>`; method syntax keeps that assignable).
   */
  targets?(req: FastifyRequest): Target[] | Promise<Target[]>;
  /** Public routes that make sense in setup mode too (status, setup claim). */
  inSetup?: boolean;
  /**
   * Public routes whose authority is in the request itself (a report's signed link) and which
   * may therefore be posted from anywhere: a page sent with no-referrer posts with Origin "null".
   */
  anyOrigin?: boolean;
}

/** A request as the route's schemas type it (the TypeBox type provider: the schema is the type). */
export type SchemaRequest<S extends FastifySchema> =
  FastifyRequest<RouteGenericInterface, RawServerDefault, RawRequestDefaultExpression, S, TypeBoxTypeProvider>;

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
    sessionId: string | null;
    session: SessionRecord | null;
    targets: Target[] | null;
    /** Extra facts a handler adds to the audit record of this change (never secrets). */
    auditDetail: Record<string, unknown> | null;
    /** The domains the change concerned, when the handler knows better than the targets. */
    auditDomains: string[] | null;
  }
}

export interface GuardDeps {
  users: UserStore;
  sessions: SessionStore;
  tokens: TokenStore;
  audit: AuditLog;
  setup: SetupState;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function principalOf(user: UserRecord, via: 'session' | 'token', token?: { name: string; access: 'read' | 'write'; domains?: string[] }): Principal {
  const p: Principal = {
    userId: user.id,
    username: user.username,
    role: user.role,
    domains: user.domains,
    address: user.role === 'user' ? user.username.toLowerCase() : undefined,
    language: user.language,
    via,
  };
  if (token) {
    p.tokenAccess = token.access;
    p.tokenName = token.name;
    if (token.domains?.length && user.role !== 'user') {
      // A domain-limited token of an admin acts as a domain admin of those domains.
      const allowed = user.role === 'admin' ? token.domains : token.domains.filter((d) => user.domains.includes(d));
      p.role = 'domain-admin';
      p.domains = allowed;
    }
  }
  return p;
}

/**
 * The sets of domains someone can read together: each domain admin's domains and each
 * domain-limited token's (as principalOf narrows it). The statistics count a message once for each.
 */
export async function readableDomainSets(users: UserStore): Promise<string[][]> {
  const accounts = await users.all();
  const byId = new Map(accounts.map((u) => [u.id, u]));
  const sets = accounts.filter((u) => u.role === 'domain-admin').map((u) => u.domains);
  for (const token of await users.tokens.list()) {
    const owner = byId.get(token.userId);
    if (!owner || !token.domains?.length) continue;
    // A token narrowed to domains its owner no longer reaches (a domain admin made a mailbox user) reads none.
    const reach = principalOf(owner, 'token', token).domains;
    if (reach.length) sets.push(reach);
  }
  return sets;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function installGuard(app: FastifyInstance, deps: GuardDeps): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('sessionId', null);
  app.decorateRequest('session', null);
  app.decorateRequest('targets', null);
  app.decorateRequest('auditDetail', null);
  app.decorateRequest('auditDomains', null);

  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/') && !route.config?.access) {
      throw new Error(`route ${String(route.method)} ${route.url} declares no access rule`);
    }
  });

  app.addHook('onRequest', async (req: FastifyRequest) => {
    const access = req.routeOptions.config?.access;
    if (!access) return; // static files of the web UI
    if (!SAFE_METHODS.has(req.method) && !(access.roles === 'public' && access.anyOrigin)) {
      const origin = req.headers.origin;
      if (origin && origin !== 'null') {
        let host = '';
        try { host = new URL(origin).host; } catch { /* refused below */ }
        if (host !== req.headers.host) throw new ApiError(403, 'bad-origin', 'api.bad-origin');
      } else if (origin === 'null') {
        throw new ApiError(403, 'bad-origin', 'api.bad-origin');
      }
    }
    await authenticate(req, deps);
    if (req.session && !SAFE_METHODS.has(req.method) && access.roles !== 'public') {
      const given = req.headers[CSRF_HEADER];
      if (typeof given !== 'string' || !sameText(given, req.session.csrf)) {
        throw new ApiError(403, 'csrf', { key: 'api.csrf', params: { header: CSRF_HEADER } });
      }
    }
    checkRole(req, access, deps.setup);
  });

  app.addHook('preHandler', async (req: FastifyRequest) => {
    const access = req.routeOptions.config?.access;
    const p = req.principal;
    if (!access?.targets || !p) return;
    // Targets may depend on the (validated) body or on the stored record the route acts on.
    const targets = await access.targets(req);
    req.targets = targets;
    for (const t of targets) {
      if (!canReach(p, t)) {
        throw 'system' in t ? forbidden('api.forbidden.system') : 'domain' in t ? forbidden('api.forbidden.domain', { domain: t.domain }) : forbidden('api.forbidden.mailbox', { address: t.address });
      }
    }
  });

  // Written before the response leaves, so a client never sees a change succeed unaudited.
  app.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const access = req.routeOptions.config?.access;
    if (!access || SAFE_METHODS.has(req.method) || reply.statusCode >= 400) return payload;
    if (access.roles === 'public' && !req.auditDetail) return payload; // login/claim write their own records
    const domains = new Set<string>(req.auditDomains?.map((d) => d.toLowerCase()));
    for (const t of req.targets ?? []) {
      if ('domain' in t) domains.add(t.domain.toLowerCase());
      else if ('address' in t) domains.add(domainOf(t.address));
    }
    // A change with no target of its own (a password, a token, a training upload) concerns the
    // caller's own domains; an admin's such change stays admin-only.
    if (!domains.size && req.principal) for (const d of accountDomains(req.principal) ?? []) domains.add(d);
    const params = req.params && typeof req.params === 'object' && Object.keys(req.params).length ? { params: req.params } : {};
    await deps.audit.record({
      actor: req.principal ? actorName(req.principal) : req.session?.setup ? 'setup wizard' : 'anonymous',
      role: req.principal?.role,
      ip: req.ip,
      action: `${req.method} ${req.routeOptions.url}`,
      domains: domains.size ? [...domains] : undefined,
      detail: { ...params, ...(req.auditDetail ?? {}) },
    });
    return payload;
  });
}

async function authenticate(req: FastifyRequest, deps: GuardDeps): Promise<void> {
  const auth = req.headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    const token = m ? await deps.tokens.lookup(m[1]) : undefined;
    const user = token ? await deps.users.byId(token.userId) : undefined;
    if (!token || !user || user.disabled) throw new ApiError(401, 'bad-token', 'api.bad-token');
    req.principal = principalOf(user, 'token', token);
    return;
  }
  const sid = req.cookies[SESSION_COOKIE];
  if (!sid) return;
  const session = await deps.sessions.get(sid);
  if (!session) return;
  if (session.setup) {
    req.session = session;
    req.sessionId = sid;
    return;
  }
  if (session.mailbox) {
    req.session = session;
    req.sessionId = sid;
    req.principal = { userId: `mailbox:${session.mailbox}`, username: session.mailbox, role: 'user', domains: [], address: session.mailbox, language: session.language ?? 'ja', via: 'link' };
    return;
  }
  const user = session.userId ? await deps.users.byId(session.userId) : undefined;
  if (!user || user.disabled) {
    await deps.sessions.end(sid);
    return;
  }
  req.session = session;
  req.sessionId = sid;
  req.principal = principalOf(user, 'session');
}

/** Setup mode and role: everything that can be decided before the body is read. */
function checkRole(req: FastifyRequest, access: Access, setup: SetupState): void {
  if (access.roles === 'setup') {
    if (!setup.inSetup) throw new ApiError(410, 'setup-finished', 'api.setup-finished');
    if (!req.session?.setup) throw new ApiError(401, 'setup-unclaimed', 'api.setup-unclaimed');
    return;
  }
  if (setup.inSetup && !(access.roles === 'public' && access.inSetup)) {
    throw new ApiError(409, 'setup-required', 'api.setup-required');
  }
  if (access.roles === 'public') return;
  const p = req.principal;
  if (!p) throw unauthenticated();
  if (access.roles !== 'any' && !access.roles.includes(p.role)) throw forbidden();
  if (p.tokenAccess === 'read' && !SAFE_METHODS.has(req.method)) throw new ApiError(403, 'token-read-only', 'api.token-read-only');
}
