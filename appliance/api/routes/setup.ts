// The first-boot wizard's API. Claiming with the setup code starts a setup session; the wizard
// then reads defaults (network, time zones, the generated certificate), tests the first domain's
// route, checks an uploaded certificate, previews everything (problems per wizard field, or the
// DNS records to publish) and finally finishes: the configuration is stored, the admin account
// made, setup mode left for good, and the browser logged in as that admin.
import { X509Certificate } from 'node:crypto';
import os from 'node:os';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type, { type Static } from 'typebox';
import { loadTlsIdentity } from '../../smtp/tls.ts';
import type { Config } from '../../config/schema.ts';
import { knownTimeZones } from '../../config/timezones.ts';
import type { ConfigProblem } from '../../config/validate.ts';
import { validateConfig } from '../../config/validate.ts';
import type { ConsoleContext } from '../route-context.ts';
import { clientKey, retryLater, startSessionCookie } from '../route-context.ts';
import { problem } from '../../config/problems.ts';
import { ApiError, invalid, requestLanguage } from '../errors.ts';
import { dnsRecords, outboundAddresses } from '../dns-records.ts';
import { passwordProblem } from '../passwords.ts';
import { checkRoute, routeCheckAnswer } from '../route-check.ts';
import { checkPair, storePair, summarise } from '../tls-upload.ts';
import { publicUser } from '../users.ts';

const Language = Type.Union([Type.Literal('ja'), Type.Literal('en')]);

export const WizardSchema = Type.Object({
  language: Language,
  admin: Type.Object({ username: Type.String({ minLength: 1, maxLength: 100 }), password: Type.String({ maxLength: 1024 }) }),
  hostname: Type.String(),
  timezone: Type.String(),
  ntpServers: Type.Array(Type.String()),
  domain: Type.Object({ name: Type.String(), host: Type.String(), port: Type.Integer() }),
  tls: Type.Union([
    Type.Object({ mode: Type.Literal('generated') }),
    Type.Object({ mode: Type.Literal('uploaded'), cert: Type.String(), key: Type.String() }),
  ]),
  contact: Type.String(),
}, { additionalProperties: false });
// The shape is checked by the route schema; the rules (lengths, ranges, patterns) come from the
// configuration schema via validateConfig, so the wizard can report every problem in one pass.

export type Wizard = Static<typeof WizardSchema>;

// Where a configuration problem shows in the wizard.
const FIELD_OF: [RegExp, string][] = [
  [/^\/hostname$/, '/hostname'],
  [/^\/time\/timezone$/, '/timezone'],
  [/^\/time\/ntpServers(\/\d+)?$/, '/ntpServers'],
  [/^\/domains\/0\/name$/, '/domain/name'],
  [/^\/domains\/0\/routes\/0\/host$/, '/domain/host'],
  [/^\/domains\/0\/routes\/0\/port$/, '/domain/port'],
  [/^\/postmaster$/, '/contact'],
];

function configFrom(current: Config, w: Wizard, tlsFiles?: { certFile: string; keyFile: string }): unknown {
  return {
    ...structuredClone(current),
    hostname: w.hostname,
    time: { ...current.time, timezone: w.timezone, ntpServers: w.ntpServers },
    domains: [{ name: w.domain.name, routes: [{ host: w.domain.host, port: w.domain.port }] }],
    postmaster: w.contact,
    console: { ...current.console, language: w.language },
    tls: tlsFiles ?? current.tls,
  };
}

function wizardProblems(ctx: ConsoleContext, w: Wizard): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const pw = passwordProblem('/admin/password', w.admin.password, w.admin.username);
  if (pw) problems.push(pw);
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(w.contact)) problems.push(problem('/contact', 'problem.not-an-address'));
  if (w.tls.mode === 'uploaded') {
    const pair = checkPair(w.tls.cert, w.tls.key);
    if ('problems' in pair) problems.push(...pair.problems.map((p) => ({ ...p, path: '/tls' + p.path })));
  }
  const result = validateConfig(configFrom(ctx.config.current, w));
  if (!result.ok) {
    for (const p of result.problems) {
      const field = FIELD_OF.find(([re]) => re.test(p.path));
      problems.push({ ...p, path: field ? field[1] : p.path });
    }
  }
  return problems;
}

export default async function setupRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const setup = { config: { access: { roles: 'setup' as const } } };

  app.post('/api/setup/claim', {
    config: { access: { roles: 'public', inSetup: true } },
    schema: { body: Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) }), response: { 200: Type.Object({ csrfToken: Type.String() }) } },
  }, async (req, reply) => {
    if (!ctx.setup.inSetup) throw new ApiError(410, 'setup-finished', 'api.setup-finished');
    const wait = ctx.setupLimiter.take(clientKey(req));
    if (wait) throw retryLater(wait);
    const ok = await ctx.setup.check(req.body.code);
    await ctx.audit.record({ actor: 'setup wizard', ip: req.ip, action: ok ? 'setup claimed' : 'setup claim refused' });
    if (!ok) throw new ApiError(401, 'bad-setup-code', 'api.bad-setup-code');
    const { id, record } = await ctx.sessions.create({ setup: true });
    startSessionCookie(reply, id);
    return { csrfToken: record.csrf };
  });

  app.get('/api/setup/defaults', setup, async () => {
    const current = ctx.config.current;
    const network = ctx.providers.system ? await ctx.providers.system.network()
      : Object.entries(os.networkInterfaces()).map(([name, list]) => ({ name, addresses: (list ?? []).map((a) => `${a.address}/${a.netmask}`), mac: list?.[0]?.mac }));
    const identity = await loadTlsIdentity({ dataDir: ctx.dataDir, hostname: current.hostname, ...current.tls });
    return {
      hostname: current.hostname,
      timezone: current.time.timezone,
      ntpServers: current.time.ntpServers,
      timezones: knownTimeZones(),
      network,
      certificate: summarise(new X509Certificate(identity.cert)),
    };
  });

  app.post('/api/setup/test-route', {
    ...setup,
    schema: { body: Type.Object({ host: Type.String({ minLength: 1, maxLength: 253 }), port: Type.Integer({ minimum: 1, maximum: 65535 }) }) },
  }, async (req) => {
    const { host, port } = req.body;
    return routeCheckAnswer(await checkRoute(host, port, { heloName: ctx.config.current.hostname }), requestLanguage(req));
  });

  app.post('/api/setup/check-tls', {
    ...setup,
    schema: { body: Type.Object({ cert: Type.String(), key: Type.String() }) },
  }, async (req) => {
    const { cert, key } = req.body;
    const pair = checkPair(cert, key);
    if ('problems' in pair) throw invalid(pair.problems);
    return { certificate: summarise(pair.cert) };
  });

  app.post('/api/setup/preview', { ...setup, schema: { body: WizardSchema } }, async (req) => {
    const w = req.body;
    const problems = wizardProblems(ctx, w);
    if (problems.length) throw invalid(problems);
    return { dns: dnsRecords(w.domain.name, w.hostname, outboundAddresses()) };
  });

  app.post('/api/setup/finish', { ...setup, schema: { body: WizardSchema } }, async (req, reply) => {
    const w = req.body;
    const problems = wizardProblems(ctx, w);
    if (problems.length) throw invalid(problems);
    const tlsFiles = w.tls.mode === 'uploaded' ? await storePair(ctx.dataDir, w.tls.cert, w.tls.key) : undefined;
    await ctx.config.replace(configFrom(ctx.config.current, w, tlsFiles), 'the setup wizard');
    const admin = await ctx.users.create({ username: w.admin.username, role: 'admin', password: w.admin.password, language: w.language });
    await ctx.setup.complete(admin.username);
    await ctx.sessions.endSetupSessions();
    if (tlsFiles) await ctx.onTlsChange();
    const { id, record } = await ctx.sessions.create({ userId: admin.id });
    startSessionCookie(reply, id);
    req.auditDetail = { admin: admin.username, domain: w.domain.name, hostname: w.hostname, tls: w.tls.mode };
    return { user: publicUser(admin), csrfToken: record.csrf, dns: dnsRecords(w.domain.name, w.hostname, outboundAddresses()) };
  });
}

