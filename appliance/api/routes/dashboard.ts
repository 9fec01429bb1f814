// The dashboard's numbers, each within the caller's scope: mail flow of the last 24 hours and
// quarantine size for everyone; queue, services, disks, virus signature age and freshclam's last checks for the appliance admin. Parts whose
// provider is missing come back as null and the page says they are not available yet.
import type { FastifyInstance } from 'fastify';
import type { ConsoleContext } from '../route-context.ts';
import { scopeOf } from '../providers/interfaces.ts';
import { version } from '../../pipeline/clamd-client.ts';
import { signatureStatus, SIGNATURES_DIR } from '../../system/signatures.ts';
import { freshclamStatus } from '../../system/freshclam.ts';
import { clamdOf } from './signatures.ts';

export default async function dashboardRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get('/api/dashboard', { config: { access: { roles: 'any' } } }, async (req) => {
    const p = req.principal!;
    const scope = scopeOf(p);
    const { stats, quarantine, queue, system } = ctx.providers;
    const admin = p.role === 'admin';
    return {
      flow: stats ? await stats.last24h(scope) : null,
      quarantine: quarantine ? await quarantine.count(scope) : null,
      queue: admin && queue ? await queue.size() : null,
      services: admin && system ? await system.services() : null,
      disks: admin && system ? await system.disks() : null,
      signatures: admin ? await signatureStatus(ctx.clamav?.databaseDir ?? SIGNATURES_DIR, await loadedVersion(ctx)) : null,
      freshclam: admin ? await freshclamStatus(ctx.clamav?.databaseDir ?? SIGNATURES_DIR) : null,
    };
  });
}

async function loadedVersion(ctx: ConsoleContext): Promise<string | undefined> {
  const clamd = clamdOf(ctx);
  return clamd ? version(clamd) : undefined;
}
