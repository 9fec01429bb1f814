// System updates (admin only; appliance/system/updates.ts explains the A/B scheme): which system
// slot runs and with which version, what the last boot check found, and whether the box fell back
// and why; the upload of a signed RAUC bundle, installed into the other slot in the background
// (the state is polled here); and the reboot into it, on request. The bundle is the raw body
// (application/octet-stream, streamed to the data partition, never buffered: it is hundreds of
// MB); RAUC checks its signature against the image's keyring before writing anything.
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { ConsoleContext } from '../route-context.ts';
import { ApiError } from '../errors.ts';
import {
  bootedSlot, otherSlot, parseRaucStatus, raucInstall, readUpdateStatus, requestReboot, updatesDir, type InstallState,
} from '../../system/updates.ts';

export interface UpdateDeps { rauc?: string; cmdline?: string }

const adminOnly = { roles: ['admin'] as const, targets: () => [{ system: true as const }] };
const BUNDLE_LIMIT = 2 * 1024 * 1024 * 1024;

async function runningVersion(): Promise<string> {
  const fromImage = await readFile('/etc/mailmoat-version', 'utf8').catch(() => undefined);
  if (fromImage) return fromImage.trim();
  const pkg = JSON.parse(await readFile(path.resolve(import.meta.dirname, '../../../package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export default async function updateRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const dir = updatesDir(ctx.dataDir);
  const cmdline = async () => ctx.updates?.cmdline ?? await readFile('/proc/cmdline', 'utf8').catch(() => '');
  let install: InstallState | null = null;
  // In this plugin only, a binary body reaches the route as a stream (the server buffers it elsewhere).
  app.removeContentTypeParser('application/octet-stream');
  app.addContentTypeParser('application/octet-stream', { bodyLimit: BUNDLE_LIMIT }, (_req, payload, done) => done(null, payload));

  app.get('/api/system/update', { config: { access: adminOnly } }, async () =>
    readUpdateStatus(ctx.dataDir, await cmdline(), await runningVersion(), install));

  app.post('/api/system/update', { config: { access: adminOnly } }, async (req, reply) => {
    if (install?.state === 'installing') throw new ApiError(409, 'update-running', 'api.update-running');
    const booted = bootedSlot(await cmdline());
    if (!booted) throw new ApiError(409, 'no-slots', 'api.update-no-slots');
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, 'upload.raucb');
    await rm(file, { force: true });
    // Written by the daemon, closed before RAUC opens it (RAUC refuses a bundle someone still holds open).
    try {
      await pipeline(req.body as Readable, createWriteStream(file, { mode: 0o640 }));
    } catch (err) {
      await rm(file, { force: true });
      // A full data partition is the likely cause, and one the admin can act on.
      const code = (err as NodeJS.ErrnoException).code;
      throw new ApiError(code === 'ENOSPC' ? 507 : 400, 'upload-failed', { key: 'api.update-upload-failed',
        params: { detail: code === 'ENOSPC' ? 'the data partition is full' : (err as Error).message } });
    }
    const startedAt = new Date().toISOString();
    install = { state: 'installing', percent: 0, message: 'checking the bundle', startedAt };
    const target = otherSlot(booted);
    req.auditDetail = { slot: target };
    raucInstall(file, (percent, message) => { install = { state: 'installing', percent, message, startedAt }; }, ctx.updates?.rauc)
      .then(async () => {
        const records = parseRaucStatus(await readFile(path.join(ctx.dataDir, 'rauc', 'central.raucs'), 'utf8').catch(() => ''));
        install = { state: 'installed', slot: target, version: records[target]?.version ?? null, startedAt, finishedAt: new Date().toISOString() };
        await ctx.audit.record({ actor: 'system', ip: '', action: 'update.installed', detail: { slot: target, version: install.version } });
      })
      .catch(async (err: Error) => {
        install = { state: 'failed', error: err.message, startedAt, finishedAt: new Date().toISOString() };
        await ctx.audit.record({ actor: 'system', ip: '', action: 'update.failed', detail: { error: err.message } });
      })
      .finally(() => rm(file, { force: true }));
    return reply.code(202).send({ install });
  });

  app.post('/api/system/update/reboot', { config: { access: adminOnly } }, async () => {
    if (install?.state === 'installing') throw new ApiError(409, 'update-running', 'api.update-running');
    await requestReboot(ctx.dataDir, install?.state === 'installed' ? `to start system ${install.slot} (${install.version ?? 'new version'})` : 'on request');
    return { rebooting: true };
  });
}
