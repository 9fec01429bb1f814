// Filtering settings. The appliance admin edits the whole `filtering` and `limits` sections through
// /api/system/config/<section>; the one per-domain filtering setting the schema has — which list
// level decides first (filtering.listPriority.domains) — is edited here, by the admin or that
// domain's admin. Validation is ConfigService's, with the problem paths relative to the setting.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { ConsoleContext } from '../route-context.ts';
import { changeConfig } from '../route-context.ts';
import { notFound } from '../errors.ts';
import type { SchemaRequest } from '../guard.ts';
import { canReach } from '../roles.ts';

const Priority = Type.Union([Type.Literal('address-first'), Type.Literal('domain-first')]);
const NameParam = Type.Object({ name: Type.String({ minLength: 1 }) });
const domainTarget = (req: SchemaRequest<{ params: typeof NameParam }>) => [{ domain: req.params.name.toLowerCase() }];

export default async function filteringRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const served = (name: string) => ctx.config.current.domains.find((d) => d.name.toLowerCase() === name.toLowerCase())?.name;

  app.get('/api/filtering/domains', { config: { access: { roles: ['admin', 'domain-admin'] } } }, async (req) => {
    const lp = ctx.config.current.filtering.listPriority;
    return {
      default: lp.default,
      items: ctx.config.current.domains.filter((d) => canReach(req.principal!, { domain: d.name }))
        .map((d) => ({ name: d.name, listPriority: lp.domains[d.name] ?? null })),
    };
  });

  app.put('/api/filtering/domains/:name', {
    config: { access: { roles: ['admin', 'domain-admin'], targets: domainTarget } },
    schema: {
      params: NameParam,
      body: Type.Object({ listPriority: Type.Union([Priority, Type.Null()]) }),
      response: { 200: Type.Object({ name: Type.String(), listPriority: Type.Union([Priority, Type.Null()]) }) },
    },
  }, async (req) => {
    const name = served(req.params.name);
    if (!name) throw notFound('api.not-found.domain');
    const { listPriority } = req.body;
    const config = await changeConfig(ctx, (draft) => {
      if (listPriority) draft.filtering.listPriority.domains[name] = listPriority;
      else delete draft.filtering.listPriority.domains[name];
    }, `/filtering/listPriority/domains/${name}`);
    req.auditDetail = { domain: name, listPriority };
    return { name, listPriority: config.filtering.listPriority.domains[name] ?? null };
  });
}
