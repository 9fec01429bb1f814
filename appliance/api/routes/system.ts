// Appliance-wide settings (admin only): every configuration section except domains (which have
// their own routes), the TLS certificate, the state of disks and services. Backup and restore are
// in routes/backup.ts.
import { X509Certificate } from 'node:crypto';
import { statfs } from 'node:fs/promises';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { loadTlsIdentity } from '../../smtp/tls.ts';
import { ConfigSchema } from '../../config/schema.ts';
import type { ConsoleContext } from '../route-context.ts';
import { changeConfig } from '../route-context.ts';
import { invalid, notFound } from '../errors.ts';
import { checkPair, storePair, summarise } from '../tls-upload.ts';

const adminOnly = { roles: ['admin'] as const, targets: () => [{ system: true as const }] };
/** Sections edited on the System (and Filtering) pages; domains are edited per domain. */
export const SECTIONS = Object.keys(ConfigSchema.properties).filter((k) => k !== 'domains');

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
}
