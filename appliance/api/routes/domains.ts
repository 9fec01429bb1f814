// Served domains: routes (with a live test), recipient verification, domain and mailbox aliases,
// settings. The admin adds and removes domains; a domain admin edits only their own domains and
// cannot rename them. A domain is checked against the configuration's own Domain schema with
// TypeBox (every problem at once, as the configuration reports them), then as part of the whole
// configuration; problems come back with paths relative to the domain, for the form. A domain's
// policy entries (policy.domains, policy.mailboxes) follow its rename and go with it.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';
import Type, { type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import Value from 'typebox/value';

import type { ConsoleContext } from '../route-context.ts';
import { Domain, type Config } from '../../config/schema.ts';
import { knownTimeZones } from '../../config/timezones.ts';
import { changeConfig } from '../route-context.ts';
import { forbidden, notFound, requestLanguage } from '../errors.ts';
import type { SchemaRequest } from '../guard.ts';
import { Done } from '../replies.ts';
import { canReach } from '../roles.ts';
import { checkRoute, routeCheckAnswer } from '../route-check.ts';

const NameParam = Type.Object({ name: Type.String({ minLength: 1 }) });
const DomainReply = Type.Object({ domain: Domain });

/** Validates a request part as the configuration is validated: defaults first, then every problem. */
const asConfigured: FastifySchemaCompiler<TSchema> = ({ schema }) => {
  const validator = Compile(schema);
  return (input) => {
    const value = Value.Default(schema, structuredClone(input));
    return validator.Check(value) ? { value } : { error: validator.Errors(value) };
  };
};
/** A domain's own policy and its mailboxes' (appliance/policy/) follow a rename and go with the domain. */
function renamePolicies(draft: Config, from: string, to: string | undefined): void {
  if (to?.toLowerCase() === from.toLowerCase()) return;
  const move = <T>(map: Record<string, T>, key: (k: string) => string | undefined) => {
    for (const k of Object.keys(map)) {
      const next = key(k);
      if (next === k) continue;
      if (next !== undefined) map[next] = map[k];
      delete map[k];
    }
  };
  move(draft.policy.domains, (k) => (k.toLowerCase() === from.toLowerCase() ? to : k));
  move(draft.policy.mailboxes, (k) => (k.slice(k.lastIndexOf('@') + 1).toLowerCase() === from.toLowerCase() ? (to ? `${k.slice(0, k.lastIndexOf('@'))}@${to}` : undefined) : k));
}
const domainTarget = (req: SchemaRequest<{ params: typeof NameParam }>) => [{ domain: req.params.name.toLowerCase() }];

export default async function domainRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const indexOf = (name: string) => ctx.config.current.domains.findIndex((d) => d.name.toLowerCase() === name.toLowerCase());

  app.get('/api/domains', {
    config: { access: { roles: ['admin', 'domain-admin'] } },
    schema: { response: { 200: Type.Object({ items: Type.Array(Domain), defaultTimezone: Type.String(), timezones: Type.Array(Type.String()) }) } },
  }, async (req) => ({
    items: ctx.config.current.domains.filter((d) => canReach(req.principal!, { domain: d.name })),
    defaultTimezone: ctx.config.current.time.timezone,
    timezones: knownTimeZones(),
  }));

  app.get('/api/domains/:name', {
    config: { access: { roles: ['admin', 'domain-admin'], targets: domainTarget } },
    schema: { params: NameParam, response: { 200: DomainReply } },
  }, async (req) => {
    const i = indexOf(req.params.name);
    if (i < 0) throw notFound('api.not-found.domain');
    return { domain: ctx.config.current.domains[i] };
  });

  app.post('/api/domains', {
    config: { access: { roles: ['admin'], targets: () => [{ system: true }] } },
    schema: { body: Domain, response: { 201: DomainReply } },
    validatorCompiler: asConfigured,
  }, async (req, reply) => {
    const body = req.body;
    const at = ctx.config.current.domains.length;
    const config = await changeConfig(ctx, (draft) => { draft.domains.push(body); }, `/domains/${at}`);
    req.auditDetail = { domain: body.name };
    reply.code(201);
    return { domain: config.domains[at] };
  });

  app.put('/api/domains/:name', {
    config: { access: { roles: ['admin', 'domain-admin'], targets: domainTarget } },
    schema: { params: NameParam, body: Domain, response: { 200: DomainReply } },
    validatorCompiler: asConfigured,
  }, async (req) => {
    const name = req.params.name;
    const body = req.body;
    const i = indexOf(name);
    if (i < 0) throw notFound('api.not-found.domain');
    if (body.name.toLowerCase() !== name.toLowerCase() && req.principal!.role !== 'admin') {
      throw forbidden('api.forbidden.rename-domain');
    }
    const config = await changeConfig(ctx, (draft) => {
      draft.domains[i] = body;
      renamePolicies(draft, name, body.name);
    }, `/domains/${i}`);
    req.auditDetail = { domain: name };
    return { domain: config.domains[i] };
  });

  app.delete('/api/domains/:name', {
    config: { access: { roles: ['admin'], targets: () => [{ system: true }] } },
    schema: { params: NameParam, response: Done },
  }, async (req) => {
    const i = indexOf(req.params.name);
    if (i < 0) throw notFound('api.not-found.domain');
    await changeConfig(ctx, (draft) => {
      const [gone] = draft.domains.splice(i, 1);
      renamePolicies(draft, gone.name, undefined);
    });
    return { ok: true };
  });

  app.post('/api/domains/:name/test-route', {
    config: { access: { roles: ['admin', 'domain-admin'], targets: domainTarget } },
    schema: { params: NameParam, body: Type.Object({ host: Type.String({ minLength: 1, maxLength: 253 }), port: Type.Integer({ minimum: 1, maximum: 65535 }) }) },
  }, async (req) => {
    const { host, port } = req.body;
    return routeCheckAnswer(await checkRoute(host, port, { heloName: ctx.config.current.hostname }), requestLanguage(req));
  });
}

