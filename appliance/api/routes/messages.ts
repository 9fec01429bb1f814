// The message log: search by sender, recipient, subject, status and date, and one record with its
// delivery attempts and the remote servers' replies. The admin sees all mail, a domain admin the
// mail to or from their domains (and only those recipients). Search pages newest first: a page's
// `next` cursor, passed back as `cursor`, gives the next.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { ConsoleContext } from '../route-context.ts';
import { notFound, unavailable } from '../errors.ts';
import { scopeOf, type MessageLogProvider } from '../providers/interfaces.ts';
import { decodeCursor, encodeCursor } from '../providers/cursor.ts';

export default async function messageRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const provider = (): MessageLogProvider => {
    const l = ctx.providers.log;
    if (!l) throw unavailable('api.unavailable.message-log');
    return l;
  };
  const access = { roles: ['admin', 'domain-admin'] as const };

  app.get('/api/messages', {
    config: { access },
    schema: { querystring: Type.Object({
      sender: Type.Optional(Type.String({ maxLength: 320 })), recipient: Type.Optional(Type.String({ maxLength: 320 })),
      subject: Type.Optional(Type.String({ maxLength: 500 })), status: Type.Optional(Type.String({ maxLength: 40 })),
      from: Type.Optional(Type.String({ maxLength: 40 })), to: Type.Optional(Type.String({ maxLength: 40 })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
      cursor: Type.Optional(Type.String({ maxLength: 400, description: 'the `next` of the previous page' })),
    }) },
  }, async (req) => {
    const { cursor, ...q } = req.query;
    const after = cursor === undefined ? undefined : decodeCursor('log', cursor);
    const page = await provider().search({ ...q, scope: scopeOf(req.principal!), limit: q.limit ?? 50, after });
    return { items: page.items, ...(page.resume ? { next: encodeCursor('log', page.resume) } : {}) };
  });

  app.get('/api/messages/:id', { config: { access }, schema: { params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }) } }, async (req) => {
    const record = await provider().get(req.params.id, scopeOf(req.principal!));
    if (!record) throw notFound('api.not-found.message');
    return { message: record };
  });
}
