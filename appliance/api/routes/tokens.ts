// API tokens for automation. Anyone logged in (from a browser session, not with another token)
// can make tokens for their own account, read-only or read-write and optionally limited to some
// of their domains; the secret is shown once. Owners revoke their own; the admin can revoke any.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { ConsoleContext } from '../route-context.ts';
import { problem } from '../../config/problems.ts';
import { ApiError, forbidden, invalid, notFound } from '../errors.ts';
import { Done } from '../replies.ts';

export default async function tokenRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/api/tokens', {
    config: { access: { roles: 'any' } },
    schema: { querystring: Type.Object({ all: Type.Optional(Type.String({ description: '"1": every account\'s tokens (admin only)' })) }) },
  }, async (req) => {
    const p = req.principal!;
    const all = req.query.all === '1' && p.role === 'admin';
    return { items: await ctx.tokens.list(all ? undefined : p.userId) };
  });

  app.post('/api/tokens', {
    config: { access: { roles: 'any' } },
    schema: {
      body: Type.Object({
        name: Type.String({ minLength: 1, maxLength: 100 }),
        access: Type.Union([Type.Literal('read'), Type.Literal('write')]),
        domains: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
      }, { additionalProperties: false }),
    },
  }, async (req, reply) => {
    const p = req.principal!;
    if (p.via !== 'session') throw new ApiError(403, 'session-only', 'api.session-only.token');
    const body = req.body;
    const domains = body.domains?.map((d) => d.toLowerCase());
    if (domains?.length) {
      if (p.role === 'user') throw invalid([problem('/domains', 'problem.token-domains-for-user')]);
      const bad = domains.findIndex((d) => p.role === 'domain-admin' && !p.domains.includes(d));
      if (bad >= 0) throw invalid([problem(`/domains/${bad}`, 'problem.not-your-domain', { domain: domains[bad] })]);
    }
    const { secret, token } = await ctx.tokens.create({ userId: p.userId, name: body.name, access: body.access, domains: domains?.length ? domains : undefined });
    req.auditDetail = { token: token.name, access: token.access, domains: token.domains };
    reply.code(201);
    return { token, secret };
  });

  app.delete('/api/tokens/:id', {
    config: { access: { roles: 'any' } },
    schema: { params: Type.Object({ id: Type.String() }), response: Done },
  }, async (req) => {
    const p = req.principal!;
    const id = req.params.id;
    const token = (await ctx.tokens.list()).find((t) => t.id === id);
    if (!token) throw notFound('api.not-found.token');
    if (token.userId !== p.userId && p.role !== 'admin') throw forbidden('api.forbidden.token');
    await ctx.tokens.revoke(id);
    req.auditDetail = { token: token.name };
    return { ok: true };
  });
}
