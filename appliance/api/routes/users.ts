// Console accounts. The admin manages everyone; a domain admin manages mailbox users of their
// domains and domain admins whose domains are all theirs; mailbox users manage only themselves
// (through /api/me). Who may touch an account is expressed as targets, checked by the guard.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { ConsoleContext } from '../route-context.ts';
import { problem, type ConfigProblem } from '../../config/problems.ts';
import { ApiError, invalid, notFound } from '../errors.ts';
import type { SchemaRequest } from '../guard.ts';
import { hashPassword, passwordProblem } from '../passwords.ts';
import { canReach, domainOf, type Role, type Target } from '../roles.ts';
import { Done } from '../replies.ts';
import { publicUser, type UserRecord } from '../users.ts';

const RoleSchema = Type.Union([Type.Literal('admin'), Type.Literal('domain-admin'), Type.Literal('user')]);
const Language = Type.Union([Type.Literal('ja'), Type.Literal('en')]);
const ADDRESS = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export function userTargets(u: { role: Role; username: string; domains?: string[] }): Target[] {
  if (u.role === 'admin') return [{ system: true }];
  if (u.role === 'user') return [{ address: u.username }];
  return u.domains?.length ? u.domains.map((domain) => ({ domain })) : [{ system: true }];
}

const IdParam = Type.Object({ id: Type.String() });
const NewUserBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 320 }),
  role: RoleSchema,
  domains: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  password: Type.String({ maxLength: 1024 }),
  language: Type.Optional(Language),
}, { additionalProperties: false });
const PatchUserBody = Type.Object({
  disabled: Type.Optional(Type.Boolean()),
  password: Type.Optional(Type.String({ maxLength: 1024 })),
  language: Type.Optional(Language),
  domains: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  unlock: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

export default async function userRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const loadTarget = async (req: SchemaRequest<{ params: typeof IdParam }>): Promise<UserRecord> => {
    const user = await ctx.users.byId(req.params.id);
    if (!user) throw notFound('api.not-found.user');
    return user;
  };
  const servedDomains = () => new Set(ctx.config.current.domains.map((d) => d.name.toLowerCase()));
  const domainProblems = (domains: string[] | undefined) => {
    const served = servedDomains();
    return (domains ?? []).flatMap((d, i) => (served.has(d.toLowerCase()) ? [] : [problem(`/domains/${i}`, 'problem.not-served-domain', { domain: d })]));
  };

  app.get('/api/users', { config: { access: { roles: ['admin', 'domain-admin'] } } }, async (req) => {
    const p = req.principal!;
    const all = await ctx.users.all();
    return { items: all.filter((u) => userTargets(u).every((t) => canReach(p, t))).map((u) => publicUser(u)) };
  });

  app.post('/api/users', {
    config: { access: { roles: ['admin', 'domain-admin'], targets: (req: SchemaRequest<{ body: typeof NewUserBody }>) => userTargets(req.body) } },
    schema: { body: NewUserBody },
  }, async (req, reply) => {
    const body = req.body;
    const problems: ConfigProblem[] = [];
    if (body.role === 'user' && !ADDRESS.test(body.username)) problems.push(problem('/username', 'problem.user-name-not-address'));
    if (body.role === 'user' && !servedDomains().has(domainOf(body.username))) problems.push(problem('/username', 'problem.not-served-domain', { domain: domainOf(body.username) }));
    if (body.role === 'domain-admin' && !body.domains?.length) problems.push(problem('/domains', 'problem.domain-admin-needs-domain'));
    if (body.role === 'domain-admin') problems.push(...domainProblems(body.domains));
    const pw = passwordProblem('/password', body.password, body.username);
    if (pw) problems.push(pw);
    if (await ctx.users.byName(body.username)) problems.push(problem('/username', 'problem.user-name-taken'));
    if (problems.length) throw invalid(problems);
    const user = await ctx.users.create({ ...body, language: body.language ?? ctx.config.current.console.language });
    req.auditDetail = { username: user.username, role: user.role, domains: user.domains };
    reply.code(201);
    return { user: publicUser(user) };
  });

  app.patch('/api/users/:id', {
    config: {
      access: {
        roles: ['admin', 'domain-admin'],
        targets: async (req: SchemaRequest<{ params: typeof IdParam; body: typeof PatchUserBody }>) => {
          const body = req.body;
          const user = await loadTarget(req);
          return [...userTargets(user), ...(body.domains ? userTargets({ ...user, domains: body.domains }) : [])];
        },
      },
    },
    schema: { params: IdParam, body: PatchUserBody },
  }, async (req) => {
    const body = req.body;
    const user = await loadTarget(req);
    const self = user.id === req.principal!.userId;
    if (self && (body.disabled || body.domains)) throw new ApiError(409, 'not-on-self', 'api.not-on-self.change');
    const problems: ConfigProblem[] = [];
    if (body.domains && user.role !== 'domain-admin') problems.push(problem('/domains', 'problem.only-domain-admins-have-domains'));
    if (body.domains && !body.domains.length) problems.push(problem('/domains', 'problem.domain-admin-needs-domain'));
    problems.push(...domainProblems(body.domains));
    const pw = body.password !== undefined ? passwordProblem('/password', body.password, user.username) : null;
    if (pw) problems.push(pw);
    if (problems.length) throw invalid(problems);
    const changed: string[] = [];
    // A new password or disabling ends the account's sessions with the save, in one batch.
    let endSessions = false;
    if (body.password !== undefined) {
      user.passwordHash = await hashPassword(body.password);
      endSessions = true;
      changed.push('password');
    }
    if (body.disabled !== undefined) {
      user.disabled = body.disabled;
      if (body.disabled) endSessions = true;
      changed.push(body.disabled ? 'disabled' : 'enabled');
    }
    if (body.unlock) {
      user.failedLogins = 0;
      delete user.lockedUntil;
      changed.push('unlocked');
    }
    if (body.language) { user.language = body.language; changed.push('language'); }
    if (body.domains) { user.domains = [...new Set(body.domains.map((d) => d.toLowerCase()))]; changed.push('domains'); }
    // The caller's own session survives its own password change (self cannot be disabled).
    if (endSessions) await ctx.users.saveEndingSessions(user, ctx.sessions, self ? req.sessionId ?? undefined : undefined);
    else await ctx.users.save(user);
    req.auditDetail = { username: user.username, changed };
    return { user: publicUser(user) };
  });

  app.delete('/api/users/:id', {
    config: { access: { roles: ['admin', 'domain-admin'], targets: async (req: SchemaRequest<{ params: typeof IdParam }>) => userTargets(await loadTarget(req)) } },
    schema: { params: IdParam, response: Done },
  }, async (req) => {
    const user = await loadTarget(req);
    if (user.id === req.principal!.userId) throw new ApiError(409, 'not-on-self', 'api.not-on-self.delete');
    await ctx.users.remove(user, ctx.sessions);
    req.auditDetail = { username: user.username, role: user.role };
    return { ok: true };
  });
}
