// Logging in and out, the caller's own account (language, password) and the public status the
// web UI reads first (setup mode or not, default language). Login is rate-limited per client IP
// and locks an account after `console.lockoutAttempts` consecutive wrong passwords.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { accountDomains } from '../audit.ts';
import type { ConsoleContext } from '../route-context.ts';
import { clearSessionCookie, clientKey, retryLater, startSessionCookie } from '../route-context.ts';
import { problem } from '../../config/problems.ts';
import { ApiError, invalid, unauthenticated } from '../errors.ts';
import { hashPassword, passwordProblem, verifyPassword } from '../passwords.ts';
import { Done } from '../replies.ts';
import { publicUser, type UserRecord } from '../users.ts';

const Language = Type.Union([Type.Literal('ja'), Type.Literal('en')]);

/**
 * The time zones the console shows times in, for the caller's own domains only: each domain's
 * (and its aliases') zone, the appliance's zone for everything else, and the caller's own zone
 * (their first domain's; the admin's is the appliance's), which search date ranges are read in.
 */
function timeZones(ctx: ConsoleContext, user: UserRecord) {
  const cfg = ctx.config.current;
  const system = cfg.time.timezone;
  const own = user.role === 'user' ? [user.username.slice(user.username.lastIndexOf('@') + 1).toLowerCase()] : user.domains;
  const domains: Record<string, string> = {};
  for (const d of cfg.domains) {
    if (user.role !== 'admin' && !own.includes(d.name.toLowerCase())) continue;
    for (const name of [d.name, ...d.aliases]) domains[name.toLowerCase()] = d.timezone ?? system;
  }
  return { system, own: (user.role === 'admin' ? undefined : domains[own[0] ?? '']) ?? system, domains };
}
// Verified against when the name is unknown, so a wrong name costs as much time as a wrong password.
let dummyHash: Promise<string> | undefined;

export default async function sessionRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/api/status', { config: { access: { roles: 'public', inSetup: true } } }, async () => ({
    setup: ctx.setup.inSetup,
    language: ctx.config.current.console.language,
  }));

  app.post('/api/session', {
    config: { access: { roles: 'public' } },
    schema: { body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 320 }), password: Type.String({ minLength: 1, maxLength: 1024 }) }) },
  }, async (req, reply) => {
    const { username, password } = req.body;
    const wait = ctx.loginLimiter.take(clientKey(req));
    if (wait) throw retryLater(wait);
    const settings = ctx.config.current.console;
    const user = await ctx.users.byName(username);
    const fail = async (why: string) => {
      await ctx.audit.record({ actor: username, ip: req.ip, action: 'login failed', domains: user ? accountDomains(user) : undefined, detail: { reason: why } });
    };
    if (!user) {
      dummyHash ??= hashPassword('not a real password, only for timing');
      await verifyPassword(await dummyHash, password);
      await fail('unknown user');
      throw new ApiError(401, 'bad-credentials', 'api.bad-credentials');
    }
    if (user.lockedUntil && Date.parse(user.lockedUntil) > Date.now()) {
      await fail('account locked');
      const minutes = Math.ceil((Date.parse(user.lockedUntil) - Date.now()) / 60_000);
      throw new ApiError(423, 'account-locked', { key: 'api.account-locked', params: { minutes } });
    }
    if (!(await verifyPassword(user.passwordHash, password))) {
      user.failedLogins += 1;
      if (user.failedLogins >= settings.lockoutAttempts) {
        user.lockedUntil = new Date(Date.now() + settings.lockoutMinutes * 60_000).toISOString();
        user.failedLogins = 0;
      }
      await ctx.users.save(user);
      await fail(user.lockedUntil ? 'wrong password; account locked' : 'wrong password');
      throw new ApiError(401, 'bad-credentials', 'api.bad-credentials');
    }
    if (user.disabled) {
      await fail('account disabled');
      throw new ApiError(403, 'account-disabled', 'api.account-disabled');
    }
    if (user.failedLogins || user.lockedUntil) {
      user.failedLogins = 0;
      delete user.lockedUntil;
      await ctx.users.save(user);
    }
    const { id, record } = await ctx.sessions.create({ userId: user.id });
    startSessionCookie(reply, id);
    await ctx.audit.record({ actor: user.username, role: user.role, ip: req.ip, action: 'login', domains: accountDomains(user) });
    return { user: publicUser(user), csrfToken: record.csrf, timeZones: timeZones(ctx, user) };
  });

  app.get('/api/session', { config: { access: { roles: 'any' } } }, async (req) => {
    const p = req.principal!;
    // A mailbox session opened from a report link stands for a mailbox user without an account.
    const user = p.via === 'link'
      ? { id: p.userId, username: p.username, role: p.role, domains: [], passwordHash: '', disabled: false, language: p.language, createdAt: new Date(req.session?.createdAt ?? Date.now()).toISOString(), failedLogins: 0 }
      : await ctx.users.byId(p.userId);
    if (!user) throw unauthenticated();
    return { user: publicUser(user), csrfToken: req.session?.csrf ?? null, principal: req.principal, timeZones: timeZones(ctx, user) };
  });

  app.delete('/api/session', { config: { access: { roles: 'any' } }, schema: { response: Done } }, async (req, reply) => {
    if (req.sessionId) await ctx.sessions.end(req.sessionId);
    clearSessionCookie(reply);
    return { ok: true };
  });

  app.patch('/api/me', {
    config: { access: { roles: 'any' } },
    schema: {
      body: Type.Object({
        language: Type.Optional(Language),
        currentPassword: Type.Optional(Type.String()),
        newPassword: Type.Optional(Type.String({ maxLength: 1024 })),
      }, { additionalProperties: false }),
    },
  }, async (req) => {
    const body = req.body;
    const user = await ctx.users.byId(req.principal!.userId);
    if (!user) throw unauthenticated();
    if (body.newPassword !== undefined) {
      if (req.principal!.via !== 'session') throw new ApiError(403, 'session-only', 'api.session-only.password');
      if (!body.currentPassword || !(await verifyPassword(user.passwordHash, body.currentPassword))) {
        throw invalid([problem('/currentPassword', 'problem.wrong-current-password')]);
      }
      const weak = passwordProblem('/newPassword', body.newPassword, user.username);
      if (weak) throw invalid([weak]);
      user.passwordHash = await hashPassword(body.newPassword);
      req.auditDetail = { passwordChanged: true };
    }
    if (body.language) user.language = body.language;
    // A new password ends the user's other sessions with the save, in one batch; this one stays.
    if (body.newPassword !== undefined) await ctx.users.saveEndingSessions(user, ctx.sessions, req.sessionId ?? undefined);
    else await ctx.users.save(user);
    return { user: publicUser(user) };
  });
}
