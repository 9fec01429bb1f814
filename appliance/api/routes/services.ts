// Restarting a service from the console (admin only). The daemon cannot restart anything itself:
// it writes the service's name to <data>/system/restart-request, which the path unit hands to
// root's mailmoat-apply-system; that checks the name against its own list and restarts the unit.
// The audit log records who asked for which restart.
import path from 'node:path';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { writeAtomic } from '../../system/network.ts';
import { isRestartable, RESTART_REQUEST } from '../../system/restartable.ts';
import type { ConsoleContext } from '../route-context.ts';
import { notFound } from '../errors.ts';
import { mkdir } from 'node:fs/promises';

const adminOnly = { roles: ['admin'] as const, targets: () => [{ system: true as const }] };

export default async function serviceRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post('/api/system/services/:name/restart', { config: { access: adminOnly }, schema: { params: Type.Object({ name: Type.String({ maxLength: 64 }) }) } }, async (req) => {
    const name = req.params.name;
    if (!isRestartable(name)) throw notFound('api.not-found.service', { name });
    const dir = path.join(ctx.dataDir, 'system');
    await mkdir(dir, { recursive: true });
    await writeAtomic(dir, RESTART_REQUEST, `${name}\n`);
    req.auditDetail = { words: `asked to restart ${name}` };
    return { requested: name };
  });
}
