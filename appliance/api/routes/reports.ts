// Reports in the console, and the pages behind the action links reports carry.
//
// Links (/api/link?t=<token>, public: the signed token is the authority, see reports/links.ts):
// GET shows a small confirmation page and changes nothing, so a mail scanner or a link preview
// following it is harmless; the page's POST form does the action. Every POST is audited, whether
// it acted or was refused. "Open my quarantine" starts a session limited to the link's mailbox
// (sessions.ts) and sends the browser to the console's quarantine page.
//
// Console: a preview of a mailbox's next digest or of a domain report (as the HTML mail shows
// it, in a sandboxed document), "send now" of a domain report for a chosen day or week, and a
// mailbox's own subscription. A domain's report settings are part of the domain (PUT /api/domains).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import Type from 'typebox';
import type { ConsoleContext } from '../route-context.ts';
import { startSessionCookie } from '../route-context.ts';
import { invalid, notFound, unavailable } from '../errors.ts';
import { problem } from '../../config/problems.ts';
import type { SchemaRequest } from '../guard.ts';
import { domainOf } from '../roles.ts';
import { PREVIEW_CSP } from './quarantine.ts';
import type { ReportService } from '../../reports/reports.ts';

/** The link pages use inline styles and post to themselves; nothing else. */
const LINK_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const TokenQuery = Type.Object({ t: Type.String({ minLength: 1, maxLength: 4000, description: 'the signed token' }) });
const Address = Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$', maxLength: 320 });
const Lang = Type.Union([Type.Literal('ja'), Type.Literal('en')]);
const DomainQuery = Type.Object({
  domain: Type.String({ minLength: 1, maxLength: 253 }),
  date: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'first day, in the domain\'s time zone' }),
  period: Type.Union([Type.Literal('day'), Type.Literal('week')], { default: 'day' }),
  language: Type.Optional(Lang),
  withoutMessages: Type.Optional(Type.Boolean({ default: false })),
});
const SendBody = Type.Object({ ...DomainQuery.properties, recipients: Type.Array(Address, { minItems: 1, maxItems: 20 }) });
const AddressQuery = Type.Object({ address: Type.Optional(Address) });
const SubscriptionBody = Type.Object({ address: Type.Optional(Address), subscribed: Type.Boolean() });

function sendPage(reply: FastifyReply, status: number, html: string) {
  return reply.code(status).header('content-security-policy', LINK_PAGE_CSP).type('text/html; charset=utf-8').send(html);
}

export default async function reportRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const reports = (): ReportService => {
    const r = ctx.providers.reports;
    if (!r) throw unavailable('api.unavailable.reports');
    return r;
  };
  // The confirmation page's form and one-click unsubscribe (RFC 8058) post a form; its fields are not needed.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_req, _body, done) => done(null, {}));

  app.get('/api/link', { config: { access: { roles: 'public' } }, schema: { querystring: TokenQuery } }, async (req, reply) => {
    const out = await reports().showLink(req.query.t, `/api/link?t=${encodeURIComponent(req.query.t)}`);
    return sendPage(reply, out.status, out.html);
  });

  app.post('/api/link', { config: { access: { roles: 'public', anyOrigin: true } }, schema: { querystring: TokenQuery } }, async (req, reply) => {
    const out = await reports().useLink(req.query.t);
    // Every use is audited, refusals too (a link that does not verify says only how it failed).
    const a = out.audit;
    await ctx.audit.record({
      actor: a ? `report link (${a.recipient})` : 'report link',
      ip: req.ip,
      action: a ? `link ${a.action}` : 'link refused',
      domains: a ? [domainOf(a.recipient)] : undefined,
      detail: a ? { message: a.message, recipient: a.recipient, result: a.result } : { status: out.status },
    });
    if (out.openSession) {
      const s = out.openSession;
      const { id } = await ctx.sessions.create({ mailbox: s.address, language: s.language, expiresAt: Date.now() + s.minutes * 60_000 });
      startSessionCookie(reply, id);
      return reply.code(303).header('location', '/#/quarantine').send();
    }
    return sendPage(reply, out.status, out.html);
  });

  const previewReply = (reply: FastifyReply, html: string) =>
    reply.header('content-security-policy', PREVIEW_CSP).header('x-frame-options', 'SAMEORIGIN').type('text/html; charset=utf-8').send(html);

  // A mailbox user means their own mailbox; an admin or domain admin names one (the guard checks it is theirs).
  const required = (address: string) => {
    if (!address) throw invalid([problem('/address', 'problem.required')]);
    return address;
  };
  const queryAddress = (req: SchemaRequest<{ querystring: typeof AddressQuery }>) => (req.query.address ?? req.principal?.address ?? '').toLowerCase();
  const bodyAddress = (req: SchemaRequest<{ body: typeof SubscriptionBody }>) => (req.body.address ?? req.principal?.address ?? '').toLowerCase();

  app.get('/api/reports/preview/digest', {
    config: { access: { roles: 'any', targets: (req: SchemaRequest<{ querystring: typeof AddressQuery }>) => [{ address: required(queryAddress(req)) }] } },
    schema: { querystring: AddressQuery },
  }, async (req, reply) => {
    const address = queryAddress(req);
    if (!ctx.config.current.domains.some((d) => [d.name, ...d.aliases].some((n) => n.toLowerCase() === domainOf(address)))) throw notFound('api.not-found.domain');
    const { since, until } = await reports().nextDigestPeriod(address);
    return previewReply(reply, (await reports().digest(address, since, until)).html);
  });

  const domainTarget = (req: SchemaRequest<{ querystring: typeof DomainQuery }>) => [{ domain: req.query.domain.toLowerCase() }];
  const served = (name: string) => ctx.config.current.domains.find((d) => d.name.toLowerCase() === name.toLowerCase());

  app.get('/api/reports/preview/domain', {
    config: { access: { roles: ['admin', 'domain-admin'], targets: domainTarget } },
    schema: { querystring: DomainQuery },
  }, async (req, reply) => {
    const q = req.query;
    const d = served(q.domain);
    if (!d) throw notFound('api.not-found.domain');
    const { since, until } = reports().period(d.name, q.date, q.period);
    const r = await reports().domainReport(d.name, since, until, q.language ?? d.reports.domain.language, q.withoutMessages ?? false);
    return previewReply(reply, r.html);
  });

  app.post('/api/reports/send', {
    config: { access: { roles: ['admin', 'domain-admin'], targets: (req: SchemaRequest<{ body: typeof SendBody }>) => [{ domain: req.body.domain.toLowerCase() }] } },
    schema: { body: SendBody },
  }, async (req) => {
    const b = req.body;
    const d = served(b.domain);
    if (!d) throw notFound('api.not-found.domain');
    const result = await reports().sendDomainReport({
      domain: d.name, date: b.date, period: b.period, language: b.language ?? d.reports.domain.language, recipients: b.recipients, withoutMessages: b.withoutMessages ?? false,
    });
    req.auditDetail = { domain: d.name, date: b.date, period: b.period, recipients: b.recipients, held: result.held };
    return { ok: true, held: result.held };
  });

  app.get('/api/reports/subscription', {
    config: { access: { roles: 'any', targets: (req: SchemaRequest<{ querystring: typeof AddressQuery }>) => [{ address: required(queryAddress(req)) }] } },
    schema: { querystring: AddressQuery },
  }, async (req) => {
    const address = queryAddress(req);
    const d = served(domainOf(address)) ?? ctx.config.current.domains.find((x) => x.aliases.some((a) => a.toLowerCase() === domainOf(address)));
    const sub = await reports().store.subscription(address);
    return { address, digestEnabled: d?.reports.digest.enabled ?? false, subscribed: sub?.subscribed ?? true };
  });

  app.put('/api/reports/subscription', {
    config: { access: { roles: 'any', targets: (req: SchemaRequest<{ body: typeof SubscriptionBody }>) => [{ address: required(bodyAddress(req)) }] } },
    schema: { body: SubscriptionBody },
  }, async (req) => {
    const address = bodyAddress(req);
    await reports().store.setSubscription(address, req.body.subscribed, Date.now());
    req.auditDetail = { address, subscribed: req.body.subscribed };
    return { address, subscribed: req.body.subscribed };
  });
}
