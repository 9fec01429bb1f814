// Reading the audit log: the admin sees everything, a domain admin the entries about their domains.
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { ConsoleContext } from '../context.ts';

export default async function auditRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get('/api/audit', {
    config: { access: { roles: ['admin', 'domain-admin'] } },
    schema: { querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }), before: Type.Optional(Type.String()) }) },
  }, async (req) => {
    const q = req.query as { limit: number; before?: string };
    const p = req.principal!;
    return { items: await ctx.audit.list({ limit: q.limit, before: q.before, domains: p.role === 'admin' ? undefined : p.domains }) };
  });
}
