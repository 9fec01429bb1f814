// The support bundle from the console (admin only; a POST, so the guard audits who took one):
// appliance/system/support-bundle.ts builds it: configuration without secrets, versions, disk,
// queue, signature and backup state, recent logs.
import type { FastifyInstance } from 'fastify';
import { version } from '../../pipeline/clamd-client.ts';
import { SIGNATURES_DIR } from '../../system/signatures.ts';
import { supportBundle } from '../../system/support-bundle.ts';
import type { ConsoleContext } from '../route-context.ts';
import { clamdOf } from './signatures.ts';

const adminOnly = { roles: ['admin'] as const, targets: () => [{ system: true as const }] };

export default async function supportRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.post('/api/system/support-bundle', { config: { access: adminOnly } }, async (req, reply) => {
    const clamd = clamdOf(ctx);
    const { name, archive } = await supportBundle({
      config: ctx.config.current, dataDir: ctx.dataDir, databaseDir: ctx.clamav?.databaseDir ?? SIGNATURES_DIR,
      queue: ctx.providers.queue ? await ctx.providers.queue.size() : undefined,
      clamdVersion: clamd ? await version(clamd) : undefined, remoteBackup: await ctx.remoteBackup.status(),
    });
    req.auditDetail = { file: name, bytes: archive.length };
    reply.header('content-type', 'application/gzip');
    reply.header('content-disposition', `attachment; filename="${name}"`);
    return reply.send(archive);
  });
}
