// Allow/block/condition lists: search, add, delete, and import/export of one list as CSV (the
// format of lists/list-files.ts; an empty one with its header is the template to fill in). Every
// write and export names the list's owner (a domain or a mailbox) as its target, so the guard keeps a domain admin to
// their domains and their mailboxes, and a mailbox user to their own address-level lists. The
// appliance-wide lists target the appliance itself: the appliance admin's alone.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { ConsoleContext } from '../route-context.ts';
import { problem } from '../../config/problems.ts';
import { MailDirection } from '../../config/schema.ts';
import { CONDITION_FIELDS, LIST_KINDS, LIST_SCOPES, ListError, type ListScope } from '../../lists/lists-store.ts';
import { templateCsv } from '../../lists/list-files.ts';
import { invalid, notFound, requestLanguage, unavailable } from '../errors.ts';
import { errorText } from '../../i18n/server-messages.ts';
import type { SchemaRequest } from '../guard.ts';
import { scopeOf, type ListsProvider } from '../providers/interfaces.ts';
import { Done } from '../replies.ts';
import type { Target } from '../roles.ts';

const Kind = Type.Union(LIST_KINDS.map((k) => Type.Literal(k)));
const Level = Type.Union(LIST_SCOPES.map((s) => Type.Literal(s)));
const Owner = Type.String({ minLength: 1, maxLength: 320 });
const Ref = { direction: MailDirection, kind: Kind, scope: Level, owner: Owner };
const RefQuery = Type.Object(Ref);
const ImportBody = Type.Object({ ...Ref, text: Type.String({ maxLength: 1024 * 1024 }) });
const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const EntryBody = Type.Object({
  ...Ref,
  value: Type.String({ minLength: 1, maxLength: 998 }),
  field: Type.Optional(Type.Union(CONDITION_FIELDS.map((f) => Type.Literal(f)))),
  header: Type.Optional(Type.String({ maxLength: 200 })),
  mode: Type.Optional(Type.Union([Type.Literal('exact'), Type.Literal('partial')])),
  note: Type.Optional(Type.String({ maxLength: 200 })),
});

export function ownerTarget(ref: { scope: ListScope; owner: string }): Target {
  if (ref.scope === 'appliance') return { system: true };
  return ref.scope === 'domain' ? { domain: ref.owner.trim().toLowerCase().replace(/^@/, '') } : { address: ref.owner.trim().toLowerCase() };
}

export default async function listRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const provider = (): ListsProvider => {
    const l = ctx.providers.lists;
    if (!l) throw unavailable('api.unavailable.lists');
    return l;
  };
  const bodyTarget = (req: SchemaRequest<{ body: typeof EntryBody | typeof ImportBody }>) => [ownerTarget(req.body)];
  const queryTarget = (req: SchemaRequest<{ querystring: typeof RefQuery }>) => [ownerTarget(req.query)];
  // The store's refusal (bad value, duplicate, list full) is shown at the value field and as the banner.
  const refusal = (err: unknown): never => {
    if (!(err instanceof ListError)) throw err;
    throw invalid([problem('/value', err.text.key, err.text.params)], err.text);
  };

  app.get('/api/lists', {
    config: { access: { roles: 'any' } },
    schema: { querystring: Type.Object({
      direction: Type.Optional(MailDirection), kind: Type.Optional(Kind), level: Type.Optional(Level), owner: Type.Optional(Type.String({ maxLength: 320 })),
      text: Type.Optional(Type.String({ maxLength: 200 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })), offset: Type.Optional(Type.Integer({ minimum: 0 })),
    }) },
  }, async (req) => {
    const q = req.query;
    const result = await provider().search({ ...q, scope: scopeOf(req.principal!), limit: q.limit ?? 100, offset: q.offset ?? 0 });
    return { ...result, kinds: provider().kinds };
  });

  app.post('/api/lists', { config: { access: { roles: 'any', targets: bodyTarget } }, schema: { body: EntryBody } }, async (req, reply) => {
    const entry = await provider().add(req.body).catch(refusal);
    req.auditDetail = { list: `${entry.direction} ${entry.kind}`, owner: entry.owner, value: entry.value };
    reply.code(201);
    return { entry };
  });

  app.delete('/api/lists/:id', {
    config: { access: { roles: 'any', targets: async (req: SchemaRequest<{ params: typeof IdParam }>) => {
      const entry = await provider().get(req.params.id);
      if (!entry) throw notFound('api.not-found.list-entry');
      return [ownerTarget(entry)];
    } } },
    schema: { params: IdParam, response: Done },
  }, async (req) => {
    const id = req.params.id;
    const entry = await provider().get(id);
    if (!entry || !(await provider().remove(id))) throw notFound('api.not-found.list-entry');
    req.auditDetail = { list: `${entry.direction} ${entry.kind}`, owner: entry.owner, value: entry.value };
    return { ok: true };
  });

  app.get('/api/lists/export', { config: { access: { roles: 'any', targets: queryTarget } }, schema: { querystring: RefQuery } }, async (req, reply) => {
    const ref = req.query;
    const owner = ref.scope === 'appliance' ? 'appliance' : ref.owner.replace(/[^A-Za-z0-9.@_-]/g, '_');
    const name = `${ref.direction}-${ref.kind}-${owner}.csv`;
    reply.header('content-disposition', `attachment; filename="${name}"`).type('text/csv; charset=utf-8');
    return provider().exportText(ref);
  });

  // The file to fill in: the header row of the export, so one format goes out and comes back in.
  app.get('/api/lists/template', { config: { access: { roles: 'any' } }, schema: { querystring: Type.Object({ kind: Kind }) } }, async (req, reply) => {
    reply.header('content-disposition', `attachment; filename="list-template-${req.query.kind}.csv"`).type('text/csv; charset=utf-8');
    return templateCsv(req.query.kind);
  });

  app.post('/api/lists/import', {
    config: { access: { roles: 'any', targets: bodyTarget } },
    schema: { body: ImportBody },
  }, async (req) => {
    const { text, ...ref } = req.body;
    const result = await provider().importText(ref, text).catch(refusal);
    req.auditDetail = { list: `${ref.direction} ${ref.kind}`, owner: ref.owner, added: result.added, skipped: result.skipped.length };
    const lang = requestLanguage(req);
    return { added: result.added, skipped: result.skipped.map(({ reason, ...s }) => (reason ? { ...s, error: errorText(lang, reason) } : s)) };
  });
}
