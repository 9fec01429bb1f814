// The mail queue: the messages waiting for delivery (paged, by recipient domain and state, with
// the last problem and the next try) and, one message at a time, retry now, bounce now and delete.
// The appliance admin sees everything; a domain admin only the recipients their domains own
// (providers/queue.ts); mailbox users have no queue. Bounce and delete end a message's delivery,
// so the request must say it was confirmed; a deleted message stays in the message log and syslog
// as deleted by whom, a bounced one gets a report to its sender. The audit log says it in words.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { problem } from '../../config/problems.ts';
import { LocalizedError } from '../../i18n/server-messages.ts';
import { ApiError, invalid, notFound, unavailable } from '../errors.ts';
import { scopeOf, type QueueAction, type QueueProvider } from '../providers/interfaces.ts';
import { actorName } from '../roles.ts';
import type { ConsoleContext } from '../route-context.ts';

const ACTIONS: readonly QueueAction[] = ['retry', 'bounce', 'delete'];
/** The actions that end a message's delivery: done only when the request says it was confirmed. */
const FINAL: readonly QueueAction[] = ['bounce', 'delete'];
const WORDS: Record<QueueAction, string> = { retry: 'retried now', bounce: 'returned to the sender', delete: 'deleted' };

const admins = { roles: ['admin', 'domain-admin'] as const };

const ListQuery = Type.Object({
  domain: Type.Optional(Type.String({ maxLength: 253 })),
  state: Type.Optional(Type.Union([Type.Literal('new'), Type.Literal('deferred'), Type.Literal('sending')])),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
});

export default async function queueRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const provider = (): Required<QueueProvider> => {
    const q = ctx.providers.queue;
    if (!q?.list || !q.act) throw unavailable('api.unavailable.queue');
    return q as Required<QueueProvider>;
  };

  app.get('/api/queue', { config: { access: admins }, schema: { querystring: ListQuery } }, async (req) => {
    const { domain, state, limit = 50, offset = 0 } = req.query;
    return provider().list({ scope: scopeOf(req.principal!), ...(domain ? { domain } : {}), ...(state ? { state } : {}), limit, offset });
  });

  app.post('/api/queue/:id/:action', {
    config: { access: admins },
    schema: {
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }), action: Type.Union(ACTIONS.map((a) => Type.Literal(a))) }),
      body: Type.Optional(Type.Object({ confirm: Type.Optional(Type.Boolean()) })),
    },
  }, async (req) => {
    const { id, action } = req.params;
    if (FINAL.includes(action) && req.body?.confirm !== true) throw invalid([problem('/confirm', 'problem.required')]);
    let result;
    try {
      result = await provider().act(id, action, { scope: scopeOf(req.principal!), by: actorName(req.principal) });
    } catch (err) {
      if (err instanceof LocalizedError) throw new ApiError(409, 'queue-action-failed', err.text);
      throw err;
    }
    if (!result) throw notFound('api.not-found.queued');
    req.auditDetail = { id, action, affected: result.affected, words: `${WORDS[action]}: message ${id} for ${result.affected.join(', ')}` };
    req.auditDomains = result.domains;
    return result;
  });
}
