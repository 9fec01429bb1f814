// Saved message-log searches, mailed on a schedule (appliance/reports/saved-searches.ts).
// Any console account may save the search it made in the message log and have it mailed daily or
// weekly, as a CSV attachment or an HTML table. Each account sees and changes its own searches;
// the admin sees and may delete everyone's. Recipients are targets of the request: a mailbox user
// may mail only their own address (the default), a domain admin addresses in their domains, the
// admin anyone. A session opened from a report link has no account and cannot save searches.
import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type, { type Static } from 'typebox';
import type { ConsoleContext } from '../route-context.ts';
import { problem } from '../../config/problems.ts';
import { forbidden, invalid, notFound, unavailable } from '../errors.ts';
import type { SchemaRequest } from '../guard.ts';
import type { LogField } from '../../logsearch/log-index.ts';
import type { ReportService } from '../../reports/reports.ts';
import type { SavedSearch } from '../../reports/saved-searches.ts';

const Address = Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$', maxLength: 320 });
const field = Type.Optional(Type.String({ maxLength: 1000 }));
const Fields = Type.Object({
  server: field, queueId: field, messageId: field, subject: field, sender: field, recipient: field, clientIp: field, clientHost: field,
  deliveryStatus: field, destIp: field, destHost: field, destPort: field, class: field, status: field,
} satisfies Record<LogField, unknown>, { additionalProperties: false, description: 'the message log search\'s fields (as GET /api/messages takes them)' });
const SearchBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  fields: Fields,
  match: Type.Union([Type.Literal('all'), Type.Literal('any')], { default: 'all' }),
  mode: Type.Union([Type.Literal('exact'), Type.Literal('contains')], { default: 'contains' }),
  format: Type.Union([Type.Literal('csv'), Type.Literal('html')], { default: 'csv' }),
  frequency: Type.Union([Type.Literal('daily'), Type.Literal('weekly')], { default: 'daily' }),
  time: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', default: '08:00' }),
  weekday: Type.Integer({ minimum: 0, maximum: 6, default: 1 }),
  recipients: Type.Optional(Type.Array(Address, { minItems: 1, maxItems: 20, description: 'default: a mailbox user\'s own address' })),
}, { additionalProperties: false });
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

type Body = Static<typeof SearchBody>;

/** Fastify drops properties a schema does not name; a search field the log does not know is refused instead. */
async function refuseUnknownFields(req: FastifyRequest): Promise<void> {
  const body = req.body as { fields?: unknown } | undefined;
  const fields = body && typeof body.fields === 'object' && body.fields ? Object.keys(body.fields) : [];
  const unknown = fields.filter((k) => !(k in Fields.properties));
  if (unknown.length) throw invalid([problem('/fields', 'problem.unknown-keys', { keys: unknown.join(', ') })]);
}
type Principal = NonNullable<FastifyRequest['principal']>;

function recipientsOf(b: Body, p: Principal): string[] {
  const r = b.recipients ?? (p.address ? [p.address] : []);
  if (!r.length) throw invalid([problem('/recipients', 'problem.required')]);
  return [...new Set(r.map((a) => a.toLowerCase()))];
}

function view(s: SavedSearch) {
  return { id: s.id, owner: s.owner, name: s.name, fields: s.query.fields, match: s.query.match, mode: s.query.mode, format: s.format,
    frequency: s.schedule.frequency, time: s.schedule.time, weekday: s.schedule.weekday, recipients: s.recipients, createdAt: new Date(s.createdAt).toISOString() };
}

export default async function savedSearchRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const reports = (): ReportService => {
    const r = ctx.providers.reports;
    if (!r) throw unavailable('api.unavailable.reports');
    return r;
  };
  const account = (p: Principal) => {
    if (p.via === 'link') throw forbidden();
    return p.userId;
  };
  /** The search, if it exists and the caller may act on it (its owner; the admin for any). */
  const mine = async (id: string, p: Principal): Promise<SavedSearch> => {
    const s = await reports().store.savedSearch(id);
    if (!s || (s.owner !== account(p) && p.role !== 'admin')) throw notFound('api.not-found.saved-search');
    return s;
  };
  const recipientTargets = (req: SchemaRequest<{ body: typeof SearchBody }>) => recipientsOf(req.body, req.principal!).map((address) => ({ address }));

  app.get('/api/saved-searches', { config: { access: { roles: 'any' } } }, async (req) => {
    const p = req.principal!;
    const all = await reports().store.savedSearches();
    return { items: (p.role === 'admin' ? all : all.filter((s) => s.owner === account(p))).map(view) };
  });

  app.post('/api/saved-searches', {
    config: { access: { roles: 'any', targets: recipientTargets } },
    schema: { body: SearchBody },
    preValidation: refuseUnknownFields,
  }, async (req, reply) => {
    const p = req.principal!;
    const b = req.body;
    const s: SavedSearch = {
      id: randomUUID(), owner: account(p), name: b.name, query: { fields: b.fields, match: b.match, mode: b.mode }, format: b.format,
      schedule: { frequency: b.frequency, time: b.time, weekday: b.weekday }, recipients: recipientsOf(b, p), createdAt: Date.now(),
    };
    await reports().store.putSavedSearch(s);
    req.auditDetail = { id: s.id, name: s.name, recipients: s.recipients };
    return reply.code(201).send({ search: view(s) });
  });

  app.put('/api/saved-searches/:id', {
    config: { access: { roles: 'any', targets: recipientTargets } },
    schema: { params: IdParams, body: SearchBody },
    preValidation: refuseUnknownFields,
  }, async (req) => {
    const old = await mine(req.params.id, req.principal!);
    const b = req.body;
    const s: SavedSearch = { ...old, name: b.name, query: { fields: b.fields, match: b.match, mode: b.mode }, format: b.format,
      schedule: { frequency: b.frequency, time: b.time, weekday: b.weekday }, recipients: recipientsOf(b, req.principal!) };
    await reports().store.putSavedSearch(s);
    req.auditDetail = { id: s.id, name: s.name, recipients: s.recipients };
    return { search: view(s) };
  });

  app.delete('/api/saved-searches/:id', { config: { access: { roles: 'any' } }, schema: { params: IdParams } }, async (req) => {
    const s = await mine(req.params.id, req.principal!);
    await reports().store.deleteSavedSearch(s.id);
    req.auditDetail = { id: s.id, name: s.name };
    return { ok: true };
  });

  app.post('/api/saved-searches/:id/send', { config: { access: { roles: 'any' } }, schema: { params: IdParams } }, async (req) => {
    const s = await mine(req.params.id, req.principal!);
    const result = await reports().sendSavedSearch(s.id);
    req.auditDetail = { id: s.id, name: s.name, sent: result.sent };
    return result;
  });
}
