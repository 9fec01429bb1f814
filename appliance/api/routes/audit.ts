// Reading the audit log: the admin sees everything, a domain admin the entries about their
// domains only (audit.ts). Filters: actor, what was done, and a date range (ISO instants; the
// console sends the caller's days in their zone). Pages newest first: a page's `next` cursor,
// passed back as `cursor`, gives the next.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { ConsoleContext } from '../route-context.ts';
import { problem } from '../../config/problems.ts';
import { auditVisibility } from '../audit.ts';
import { invalid } from '../errors.ts';
import { decodeCursor, encodeCursor } from '../providers/cursor.ts';

/** An ISO instant in the form the log's keys use; a problem at `path` when it is not a date. */
function instant(value: string | undefined, path: string): string | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw invalid([problem(path, 'problem.format', { format: 'date-time' })]);
  return new Date(ms).toISOString();
}

export default async function auditRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/api/audit', {
    config: { access: { roles: ['admin', 'domain-admin'] } },
    schema: { querystring: Type.Object({
      actor: Type.Optional(Type.String({ maxLength: 320 })),
      action: Type.Optional(Type.String({ maxLength: 200 })),
      from: Type.Optional(Type.String({ maxLength: 40 })),
      to: Type.Optional(Type.String({ maxLength: 40 })),
      limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
      cursor: Type.Optional(Type.String({ maxLength: 400, description: 'the `next` of the previous page' })),
    }) },
  }, async (req) => {
    const q = req.query;
    const page = await ctx.audit.search({
      limit: q.limit,
      after: q.cursor === undefined ? undefined : decodeCursor('audit', q.cursor),
      actor: q.actor,
      action: q.action,
      from: instant(q.from, '/from'),
      to: instant(q.to, '/to'),
      visible: auditVisibility(req.principal!),
    });
    return { items: page.items, ...(page.resume ? { next: encodeCursor('audit', page.resume) } : {}) };
  });
}
