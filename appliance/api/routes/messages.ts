// The message log: search by every field the hosted filter's log search offers (receiving server,
// our id, Message-ID, subject, sender — envelope or From —, recipient — original or resolved —,
// client IP and host, delivery reply, destination IP, host and port, class, status), a received
// time range (ISO instants: the console sends the minutes of the domain's zone), a delivered time
// range, all or any of the fields, exact or partial ("contains") match, or only the latest record;
// one record with its delivery attempts and the remote servers' replies; and the search exported
// as CSV (streamed, UTF-8 with a byte order mark, every matching record, the columns chosen).
// A parameter this API does not know is a 400 naming it, never silently ignored. The admin sees
// all mail, a domain admin the mail to or from their domains (and only those recipients), a
// mailbox user their own. Search pages newest first: a page's `next` cursor, passed back as
// `cursor`, gives the next.
import { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type, { type Static } from 'typebox';
import type { ConsoleContext } from '../route-context.ts';
import { problem } from '../../config/problems.ts';
import { csvStream } from '../../csv/csv.ts';
import { LOG_FIELDS, type LogField } from '../../logsearch/log-index.ts';
import { invalid, notFound, unavailable } from '../errors.ts';
import { scopeOf, type LogItem, type LogQuery, type MessageLogProvider } from '../providers/interfaces.ts';
import { decodeCursor, encodeCursor } from '../providers/cursor.ts';

const text = (maxLength: number) => Type.Optional(Type.String({ maxLength }));
const FieldParams = {
  server: text(253), queueId: text(200), messageId: text(998), subject: text(500), sender: text(320), recipient: text(320),
  clientIp: text(64), clientHost: text(253), deliveryStatus: text(1000), destIp: text(64), destHost: text(253),
  destPort: text(5), class: text(40), status: text(40),
} satisfies Record<LogField, unknown>;

const SearchParams = {
  ...FieldParams,
  from: Type.Optional(Type.String({ maxLength: 40, description: 'received at or after (ISO date-time)' })),
  to: Type.Optional(Type.String({ maxLength: 40, description: 'received before (ISO date-time)' })),
  deliveredAfter: Type.Optional(Type.String({ maxLength: 40 })),
  deliveredBefore: Type.Optional(Type.String({ maxLength: 40 })),
  match: Type.Optional(Type.Union([Type.Literal('all'), Type.Literal('any')], { description: 'all (default) or any of the fields' })),
  mode: Type.Optional(Type.Union([Type.Literal('exact'), Type.Literal('contains')], { description: 'contains (default) or the whole value' })),
  latest: Type.Optional(Type.Boolean({ description: 'only the newest record, whatever the other criteria' })),
};
const SearchQuery = Type.Object({
  ...SearchParams,
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  cursor: Type.Optional(Type.String({ maxLength: 400, description: 'the `next` of the previous page' })),
}, { additionalProperties: false });

/** The columns an export can hold, in their default order. */
const COLUMNS = ['receivedAt', 'id', 'server', 'direction', 'sender', 'from', 'recipients', 'originalRecipients', 'subject', 'messageId',
  'clientIp', 'clientHost', 'class', 'status', 'size', 'reply', 'destination', 'destinationPort', 'deliveredAt', 'deliveryStatus'] as const;
type Column = typeof COLUMNS[number];
const ExportQuery = Type.Object({
  ...SearchParams,
  columns: Type.Optional(Type.String({ maxLength: 1000, description: `comma-separated, in order, of: ${COLUMNS.join(', ')}` })),
  bom: Type.Optional(Type.Boolean({ description: 'start with a UTF-8 byte order mark, which Excel needs to read Japanese text (default true)' })),
}, { additionalProperties: false });

function cell(item: LogItem, column: Column): string {
  const d = item.delivery;
  switch (column) {
    case 'recipients': return item.recipients.map((r) => r.address).join(' ');
    case 'originalRecipients': return item.recipients.map((r) => r.original ?? r.address).join(' ');
    case 'class': return [...new Set(item.recipients.flatMap((r) => (r.class ? [r.class] : [])))].join(' ');
    case 'size': return String(item.size);
    case 'destination': return d?.host ?? '';
    case 'destinationPort': return d?.port ? String(d.port) : '';
    case 'deliveredAt': return d && d.code >= 200 && d.code < 300 ? d.at : '';
    case 'deliveryStatus': return d ? d.reply : '';
    default: return item[column] ?? '';
  }
}

/** Fastify drops parameters a schema does not name; the log search refuses them instead. */
function refuseUnknown(given: string[], known: Record<string, unknown>): void {
  const unknown = given.filter((k) => !(k in known));
  if (unknown.length) throw invalid(unknown.map((k) => problem(`/querystring/${k}`, 'problem.unknown-keys', { keys: k })));
}

function instant(value: string | undefined, name: string): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw invalid([problem(`/querystring/${name}`, 'problem.format', { format: 'date-time' })]);
  return ms;
}

type Filters = Static<typeof SearchQuery> | Static<typeof ExportQuery>;

function logQuery(q: Filters, req: FastifyRequest): Omit<LogQuery, 'limit' | 'after'> {
  const fields: LogQuery['fields'] = {};
  for (const f of LOG_FIELDS) if (q[f] !== undefined) fields[f] = q[f];
  return {
    scope: scopeOf(req.principal!), fields, match: q.match ?? 'all', mode: q.mode ?? 'contains', latest: q.latest ?? false,
    from: instant(q.from, 'from'), to: instant(q.to, 'to'),
    deliveredAfter: instant(q.deliveredAfter, 'deliveredAfter'), deliveredBefore: instant(q.deliveredBefore, 'deliveredBefore'),
  };
}

export default async function messageRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const provider = (): MessageLogProvider => {
    const l = ctx.providers.log;
    if (!l) throw unavailable('api.unavailable.message-log');
    return l;
  };
  const access = { roles: ['admin', 'domain-admin', 'user'] as const };

  app.get('/api/messages', {
    config: { access },
    schema: { querystring: SearchQuery },
    preValidation: async (req) => refuseUnknown(Object.keys(req.query), SearchQuery.properties),
  }, async (req) => {
    const { cursor, limit } = req.query;
    const after = cursor === undefined ? undefined : decodeCursor('log', cursor);
    const page = await provider().search({ ...logQuery(req.query, req), limit: limit ?? 50, after });
    return { items: page.items, ...(page.resume ? { next: encodeCursor('log', page.resume) } : {}) };
  });

  app.get('/api/messages/export', {
    config: { access },
    schema: { querystring: ExportQuery },
    preValidation: async (req) => refuseUnknown(Object.keys(req.query), ExportQuery.properties),
  }, async (req, reply) => {
    const names = req.query.columns ? req.query.columns.split(',').map((c) => c.trim()).filter(Boolean) : [...COLUMNS];
    const bad = names.filter((c) => !(COLUMNS as readonly string[]).includes(c));
    if (bad.length || !names.length) throw invalid([problem('/querystring/columns', 'problem.unknown-keys', { keys: bad.join(', ') || '(none)' })]);
    const columns = names as Column[];
    const query = logQuery(req.query, req);
    const log = provider();
    async function* pages(): AsyncGenerator<string[][]> {
      let after: string | undefined;
      do {
        const page = await log.search({ ...query, limit: 500, after });
        yield page.items.map((item) => columns.map((c) => cell(item, c)));
        after = page.resume;
      } while (after !== undefined);
    }
    const stamp = new Date().toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
    reply.header('content-disposition', `attachment; filename="mailmoat-messages-${stamp}.csv"`).type('text/csv; charset=utf-8');
    return reply.send(Readable.from(csvStream([...columns], pages(), { bom: req.query.bom ?? true })));
  });

  app.get('/api/messages/:id', { config: { access }, schema: { params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }) } }, async (req) => {
    const record = await provider().get(req.params.id, scopeOf(req.principal!));
    if (!record) throw notFound('api.not-found.message');
    return { message: record };
  });
}
