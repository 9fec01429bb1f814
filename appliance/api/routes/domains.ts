// Served domains: routes (with a live test), recipient verification, domain and mailbox aliases,
// settings. The admin adds and removes domains; a domain admin edits only their own domains and
// cannot rename them. Problems come back with paths relative to the domain, for the form.
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';

import type { ConsoleContext } from '../route-context.ts';
import { knownTimeZones } from '../../config/timezones.ts';
import { changeConfig } from '../route-context.ts';
import { forbidden, notFound, requestLanguage } from '../errors.ts';
import { canReach } from '../roles.ts';
import { routeTestAnswer, testSmtpRoute } from '../route-test.ts';

const NameParam = Type.Object({ name: Type.String({ minLength: 1 }) });
const domainTarget = (req: { params: unknown }) => [{ domain: (req.params as { name: string }).name.toLowerCase() }];

export default async function domainRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const indexOf = (name: string) => ctx.config.current.domains.findIndex((d) => d.name.toLowerCase() === name.toLowerCase());

  app.get('/api/domains', { config: { access: { roles: ['admin', 'domain-admin'] } } }, async (req) => ({
    items: ctx.config.current.domains.filter((d) => canReach(req.principal!, { domain: d.name })),
    defaultTimezone: ctx.config.current.time.timezone,
    timezones: knownTimeZones(),
  }));

  app.get('/api/domains/:name', {
    config: { access: { roles: ['admin', 'domain-admin'], targets: domainTarget } },
    schema: { params: NameParam },
  }, async (req) => {
    const i = indexOf((req.params as { name: string }).name);
    if (i < 0) throw notFound('api.not-found.domain');
    return { domain: ctx.config.current.domains[i] };
  });

  app.post('/api/domains', {
    config: { access: { roles: ['admin'], targets: () => [{ system: true }] } },
    schema: { body: Type.Object({}, { additionalProperties: true }) },
  }, async (req, reply) => {
    const body = req.body as { name?: unknown };
    const at = ctx.config.current.domains.length;
    const config = await changeConfig(ctx, (draft) => { draft.domains.push(body as never); }, `/domains/${at}`);
    req.auditDetail = { domain: body.name };
    reply.code(201);
    return { domain: config.domains[at] };
  });

  app.put('/api/domains/:name', {
    config: { access: { roles: ['admin', 'domain-admin'], targets: domainTarget } },
    schema: { params: NameParam, body: Type.Object({}, { additionalProperties: true }) },
  }, async (req) => {
    const name = (req.params as { name: string }).name;
    const body = req.body as { name?: unknown };
    const i = indexOf(name);
    if (i < 0) throw notFound('api.not-found.domain');
    if (typeof body.name === 'string' && body.name.toLowerCase() !== name.toLowerCase() && req.principal!.role !== 'admin') {
      throw forbidden('api.forbidden.rename-domain');
    }
    const config = await changeConfig(ctx, (draft) => { draft.domains[i] = body as never; }, `/domains/${i}`);
    req.auditDetail = { domain: name };
    return { domain: config.domains[i] };
  });

  app.delete('/api/domains/:name', {
    config: { access: { roles: ['admin'], targets: () => [{ system: true }] } },
    schema: { params: NameParam },
  }, async (req) => {
    const i = indexOf((req.params as { name: string }).name);
    if (i < 0) throw notFound('api.not-found.domain');
    await changeConfig(ctx, (draft) => { draft.domains.splice(i, 1); });
    return { ok: true };
  });

  app.post('/api/domains/:name/test-route', {
    config: { access: { roles: ['admin', 'domain-admin'], targets: domainTarget } },
    schema: { params: NameParam, body: Type.Object({ host: Type.String({ minLength: 1, maxLength: 253 }), port: Type.Integer({ minimum: 1, maximum: 65535 }) }) },
  }, async (req) => {
    const { host, port } = req.body as { host: string; port: number };
    return routeTestAnswer(await testSmtpRoute(host, port, { heloName: ctx.config.current.hostname }), requestLanguage(req));
  });
}

