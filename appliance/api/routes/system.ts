// Appliance-wide settings (admin only): every configuration section except domains (which have
// their own routes), the TLS certificate, the state of disks and services, and backup/restore of
// the whole configuration (settings and console accounts) as one JSON file.
import { X509Certificate } from 'node:crypto';
import { statfs } from 'node:fs/promises';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { loadTlsIdentity } from '../../smtp/tls.ts';
import { ConfigSchema } from '../../config/schema.ts';
import { validateConfig } from '../../config/validate.ts';
import type { ConsoleContext } from '../route-context.ts';
import { changeConfig } from '../route-context.ts';
import { problem, type ConfigProblem } from '../../config/problems.ts';
import { invalid, notFound } from '../errors.ts';
import { Done } from '../replies.ts';
import { checkPair, storePair, summarise } from '../tls-upload.ts';
import type { UserRecord } from '../users.ts';

const adminOnly = { roles: ['admin'] as const, targets: () => [{ system: true as const }] };
/** Sections edited on the System (and Filtering) pages; domains are edited per domain. */
export const SECTIONS = Object.keys(ConfigSchema.properties).filter((k) => k !== 'domains');
const BACKUP_FORMAT = 'mailmoat-backup';

/** What a backup's account must have to be restored; the rest is kept as it came. */
function isAccount(u: unknown): u is UserRecord {
  return typeof u === 'object' && u !== null && 'id' in u && typeof u.id === 'string' && 'username' in u && typeof u.username === 'string' &&
    'passwordHash' in u && typeof u.passwordHash === 'string' && 'role' in u && (u.role === 'admin' || u.role === 'domain-admin' || u.role === 'user');
}

export default async function systemRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/api/system/config', { config: { access: adminOnly } }, async () => {
    const { domains: _d, ...rest } = ctx.config.current;
    return { config: rest, sections: SECTIONS };
  });

  app.put('/api/system/config/:section', {
    config: { access: adminOnly },
    schema: { params: Type.Object({ section: Type.String() }), body: Type.Object({ value: Type.Unknown() }) },
  }, async (req) => {
    const section = req.params.section;
    if (!SECTIONS.includes(section)) throw notFound('api.not-found.section', { section });
    const value = req.body.value;
    const config = await changeConfig(ctx, (draft) => { (draft as Record<string, unknown>)[section] = value; }, `/${section}`);
    req.auditDetail = { section };
    return { value: (config as Record<string, unknown>)[section] };
  });

  app.get('/api/system/status', { config: { access: adminOnly } }, async () => {
    const system = ctx.providers.system;
    const fs = await statfs(ctx.dataDir);
    const size = fs.blocks * fs.bsize;
    const used = size - fs.bavail * fs.bsize;
    const fallbackDisk = [{ mount: ctx.dataDir, sizeBytes: size, usedBytes: used, state: used / size > 0.95 ? 'critical' : used / size > 0.85 ? 'warning' : 'ok' }];
    const c = ctx.config.current;
    const identity = await loadTlsIdentity({ dataDir: ctx.dataDir, hostname: c.hostname, ...c.tls });
    return {
      disks: system ? await system.disks() : fallbackDisk,
      services: system ? await system.services() : null,
      network: system ? await system.network() : null,
      time: { now: new Date().toISOString(), timezone: c.time.timezone },
      certificate: { ...summarise(new X509Certificate(identity.cert)), selfSigned: identity.selfSigned },
    };
  });

  app.post('/api/system/tls', {
    config: { access: adminOnly },
    schema: { body: Type.Object({ cert: Type.String({ maxLength: 200_000 }), key: Type.String({ maxLength: 200_000 }) }) },
  }, async (req) => {
    const { cert, key } = req.body;
    const pair = checkPair(cert, key);
    if ('problems' in pair) throw invalid(pair.problems);
    const files = await storePair(ctx.dataDir, cert, key);
    await changeConfig(ctx, (draft) => { draft.tls = files; });
    await ctx.onTlsChange();
    req.auditDetail = { subject: pair.cert.subject, fingerprint256: pair.cert.fingerprint256 };
    return { certificate: summarise(pair.cert) };
  });

  app.get('/api/system/backup', { config: { access: adminOnly } }, async (_req, reply) => {
    const users = await ctx.users.all();
    const stamp = new Date().toISOString();
    reply.header('content-disposition', `attachment; filename="mailmoat-backup-${stamp.slice(0, 10)}.json"`);
    return { format: BACKUP_FORMAT, version: 1, createdAt: stamp, config: ctx.config.current, users };
  });

  app.post('/api/system/restore', {
    config: { access: adminOnly },
    bodyLimit: 16 * 1024 * 1024,
    schema: { body: Type.Object({ format: Type.Literal(BACKUP_FORMAT), version: Type.Literal(1), config: Type.Unknown(), users: Type.Array(Type.Unknown()) }), response: Done },
  }, async (req) => {
    const body = req.body;
    const result = validateConfig(body.config);
    if (!result.ok) throw invalid(result.problems.map((p) => ({ ...p, path: '/config' + p.path })));
    const problems: ConfigProblem[] = body.users.flatMap((u, i) => (isAccount(u) ? [] : [problem(`/users/${i}`, 'problem.not-an-account')]));
    const users = body.users.filter(isAccount);
    if (!users.some((u) => u.role === 'admin' && !u.disabled)) problems.push(problem('/users', 'problem.backup-without-admin'));
    if (problems.length) throw invalid(problems);
    await ctx.config.replace(result.config, 'the restored backup');
    await ctx.users.restoreAll(users);
    req.auditDetail = { users: users.length, domains: result.config.domains.length };
    return { ok: true };
  });
}
