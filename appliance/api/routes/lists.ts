// Allow/block/condition lists: search, add, delete, and import/export of one list as text (one
// entry a line, fields separated by TAB — the format of ListsStore). Every write and export names
// the list's owner (a domain or a mailbox) as its target, so the guard keeps a domain admin to
// their domains and their mailboxes, and a mailbox user to their own address-level lists.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { ConsoleContext } from '../route-context.ts';
import { problem } from '../../config/problems.ts';
import { ListError } from '../../lists/lists-store.ts';
import { invalid, notFound, requestLanguage, unavailable } from '../errors.ts';
import { errorText } from '../../i18n/server-messages.ts';
import { scopeOf, type ListEntryInput, type ListRef, type ListsProvider } from '../providers/interfaces.ts';
import type { Target } from '../roles.ts';

const KINDS = ['sender-allow', 'sender-block', 'recipient-allow', 'recipient-block', 'condition-block', 'condition-allow', 'condition-quarantine'] as const;
const Direction = Type.Union([Type.Literal('inbound'), Type.Literal('outbound')]);
const Kind = Type.Union(KINDS.map((k) => Type.Literal(k)));
const Level = Type.Union([Type.Literal('domain'), Type.Literal('address')]);
const Owner = Type.String({ minLength: 1, maxLength: 320 });
const Ref = { direction: Direction, kind: Kind, scope: Level, owner: Owner };
const EntryBody = Type.Object({
  ...Ref,
  value: Type.String({ minLength: 1, maxLength: 998 }),
  field: Type.Optional(Type.Union([Type.Literal('envelope-from'), Type.Literal('from-header'), Type.Literal('subject'), Type.Literal('header')])),
  header: Type.Optional(Type.String({ maxLength: 200 })),
  mode: Type.Optional(Type.Union([Type.Literal('exact'), Type.Literal('partial')])),
  note: Type.Optional(Type.String({ maxLength: 200 })),
});

export function ownerTarget(ref: { scope: 'domain' | 'address'; owner: string }): Target {
  return ref.scope === 'domain' ? { domain: ref.owner.trim().toLowerCase().replace(/^@/, '') } : { address: ref.owner.trim().toLowerCase() };
}

export default async function listRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const provider = (): ListsProvider => {
    const l = ctx.providers.lists;
    if (!l) throw unavailable('api.unavailable.lists');
    return l;
  };
  const refTarget = (from: 'body' | 'query') => (req: FastifyRequest) => [ownerTarget((from === 'body' ? req.body : req.query) as ListRef)];
  // The store's refusal (bad value, duplicate, list full) is shown at the value field and as the banner.
  const refusal = (err: unknown): never => {
    if (!(err instanceof ListError)) throw err;
    throw invalid([problem('/value', err.text.key, err.text.params)], err.text);
  };

  app.get('/api/lists', {
    config: { access: { roles: 'any' } },
    schema: { querystring: Type.Object({
      direction: Type.Optional(Direction), kind: Type.Optional(Kind), level: Type.Optional(Level), owner: Type.Optional(Type.String({ maxLength: 320 })),
      text: Type.Optional(Type.String({ maxLength: 200 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })), offset: Type.Optional(Type.Integer({ minimum: 0 })),
    }) },
  }, async (req) => {
    const q = req.query as Record<string, string | number | undefined>;
    const result = await provider().search({ ...q, scope: scopeOf(req.principal!), limit: Number(q.limit ?? 100), offset: Number(q.offset ?? 0) } as never);
    return { ...result, kinds: provider().kinds };
  });

  app.post('/api/lists', { config: { access: { roles: 'any', targets: refTarget('body') } }, schema: { body: EntryBody } }, async (req, reply) => {
    const entry = await provider().add(req.body as ListEntryInput).catch(refusal);
    req.auditDetail = { list: `${entry.direction} ${entry.kind}`, owner: entry.owner, value: entry.value };
    reply.code(201);
    return { entry };
  });

  app.delete('/api/lists/:id', {
    config: { access: { roles: 'any', targets: async (req) => {
      const entry = await provider().get((req.params as { id: string }).id);
      if (!entry) throw notFound('api.not-found.list-entry');
      return [ownerTarget(entry)];
    } } },
    schema: { params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }) },
  }, async (req) => {
    const id = (req.params as { id: string }).id;
    const entry = await provider().get(id);
    if (!entry || !(await provider().remove(id))) throw notFound('api.not-found.list-entry');
    req.auditDetail = { list: `${entry.direction} ${entry.kind}`, owner: entry.owner, value: entry.value };
    return { ok: true };
  });

  app.get('/api/lists/export', { config: { access: { roles: 'any', targets: refTarget('query') } }, schema: { querystring: Type.Object(Ref) } }, async (req, reply) => {
    const ref = req.query as ListRef;
    const name = `${ref.direction}-${ref.kind}-${ref.owner.replace(/[^A-Za-z0-9.@_-]/g, '_')}.csv`;
    reply.header('content-disposition', `attachment; filename="${name}"`).type('text/csv; charset=utf-8');
    return provider().exportText(ref);
  });

  app.post('/api/lists/import', {
    config: { access: { roles: 'any', targets: refTarget('body') } },
    schema: { body: Type.Object({ ...Ref, text: Type.String({ maxLength: 1024 * 1024 }) }) },
  }, async (req) => {
    const { text, ...ref } = req.body as ListRef & { text: string };
    const result = await provider().importText(ref, text).catch(refusal);
    req.auditDetail = { list: `${ref.direction} ${ref.kind}`, owner: ref.owner, added: result.added, skipped: result.skipped.length };
    const lang = requestLanguage(req);
    return { added: result.added, skipped: result.skipped.map(({ reason, ...s }) => (reason ? { ...s, error: errorText(lang, reason) } : s)) };
  });
}
