// System updates (admin only; appliance/system/updates.ts explains the A/B scheme): which system
// slot runs and with which version, what the last boot check found, and whether the box fell back
// and why; the upload of a signed RAUC bundle, installed into the other slot in the background
// (the state is polled here); and the reboot into it, on request. Two ways in: POST
// /api/system/update installs what it receives at once (scripts); the console uploads to
// /api/system/update/bundle first, which checks the signature and answers the bundle's version and
// notes, and installs it on a second request (optionally rebooting into it when installed). The
// bundle is the raw body (application/octet-stream, streamed to the data partition, never
// buffered: it is hundreds of MB); RAUC checks its signature against the image's keyring before
// writing anything. One bundle is kept at a time.
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { ConsoleContext } from '../route-context.ts';
import { ApiError } from '../errors.ts';
import {
  bootedSlot, otherSlot, parseRaucStatus, raucInfo, raucInstall, readUpdateStatus, requestReboot, updatesDir, type InstallState, type SlotName,
  type UploadedBundle,
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
  const file = path.join(dir, 'upload.raucb');
  const cmdline = async () => ctx.updates?.cmdline ?? await readFile('/proc/cmdline', 'utf8').catch(() => '');
  let install: InstallState | null = null;
  let bundle: UploadedBundle | null = null;
  /** True while a bundle is being received: a second upload would write into the same file. */
  let receiving = false;
  // A bundle an earlier daemon left is not known to this one: it would only hold the space.
  await rm(file, { force: true });
  // In this plugin only, a binary body reaches the route as a stream (the server buffers it elsewhere).
  app.removeContentTypeParser('application/octet-stream');
  app.addContentTypeParser('application/octet-stream', { bodyLimit: BUNDLE_LIMIT }, (_req, payload, done) => done(null, payload));

  /** The slot that runs, when an install may start now. */
  async function mayInstall(): Promise<SlotName> {
    if (install?.state === 'installing' || receiving) throw new ApiError(409, 'update-running', 'api.update-running');
    const booted = bootedSlot(await cmdline());
    if (!booted) throw new ApiError(409, 'no-slots', 'api.update-no-slots');
    return booted;
  }

  /** Writes the request's body to the upload file (replacing a bundle kept before); returns its size. */
  async function receive(req: FastifyRequest): Promise<number> {
    receiving = true;
    try {
      return await receiveInto(req);
    } finally {
      receiving = false;
    }
  }

  async function receiveInto(req: FastifyRequest): Promise<number> {
    bundle = null;
    await mkdir(dir, { recursive: true });
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
    return (await stat(file)).size;
  }

  /** Installs the upload file into the slot not running, in the background; then reboots into it if asked. */
  function startInstall(booted: SlotName, reboot: boolean): SlotName {
    const startedAt = new Date().toISOString();
    install = { state: 'installing', percent: 0, message: 'checking the bundle', startedAt };
    const target = otherSlot(booted);
    const progress = (percent: number, message: string) => { install = { state: 'installing', percent, message, startedAt }; };
    const audited = (action: string, detail: Record<string, unknown>) => ctx.audit.record({ actor: 'system', ip: '', action, detail })
      .catch((err: Error) => fastify.log.error(`update: the audit record failed: ${err.message}`));
    void (async () => {
      const failure = await raucInstall(file, progress, ctx.updates?.rauc).then(() => undefined, (err: Error) => err);
      // The file goes before the state leaves 'installing': an upload may follow at once.
      await rm(file, { force: true }).catch(() => undefined);
      const finishedAt = () => new Date().toISOString();
      if (failure) {
        install = { state: 'failed', error: failure.message, startedAt, finishedAt: finishedAt() };
        await audited('update.failed', { error: failure.message });
        return;
      }
      const records = parseRaucStatus(await readFile(path.join(ctx.dataDir, 'rauc', 'central.raucs'), 'utf8').catch(() => ''));
      const version = records[target]?.version ?? null;
      const rebooting = reboot && await requestReboot(ctx.dataDir, `to start system ${target} (${version ?? 'new version'})`).then(() => true, () => false);
      install = { state: 'installed', slot: target, version, startedAt, finishedAt: finishedAt(), rebooting };
      await audited('update.installed', { slot: target, version });
    })();
    return target;
  }

  app.get('/api/system/update', { config: { access: adminOnly } }, async () =>
    readUpdateStatus(ctx.dataDir, await cmdline(), await runningVersion(), install, bundle));

  app.post('/api/system/update', { config: { access: adminOnly } }, async (req, reply) => {
    const booted = await mayInstall();
    await receive(req);
    req.auditDetail = { slot: startInstall(booted, false) };
    return reply.code(202).send({ install });
  });

  app.post('/api/system/update/bundle', { config: { access: adminOnly } }, async (req) => {
    await mayInstall();
    const size = await receive(req);
    try {
      bundle = { ...await raucInfo(file, ctx.updates?.rauc), size, uploadedAt: new Date().toISOString() };
    } catch (err) {
      await rm(file, { force: true });
      throw new ApiError(400, 'bundle-refused', { key: 'api.update-bundle-refused', params: { detail: (err as Error).message } });
    }
    req.auditDetail = { version: bundle.version };
    return { bundle };
  });

  app.delete('/api/system/update/bundle', { config: { access: adminOnly } }, async () => {
    if (install?.state === 'installing' || receiving) throw new ApiError(409, 'update-running', 'api.update-running');
    bundle = null;
    await rm(file, { force: true });
    return { bundle };
  });

  app.post('/api/system/update/bundle/install', {
    config: { access: adminOnly },
    schema: { body: Type.Object({ reboot: Type.Boolean() }) },
  }, async (req, reply) => {
    const booted = await mayInstall();
    if (!bundle) throw new ApiError(409, 'no-bundle', 'api.update-no-bundle');
    req.auditDetail = { slot: otherSlot(booted), version: bundle.version, reboot: req.body.reboot };
    bundle = null;
    startInstall(booted, req.body.reboot);
    return reply.code(202).send({ install });
  });

  app.post('/api/system/update/reboot', { config: { access: adminOnly } }, async () => {
    if (install?.state === 'installing') throw new ApiError(409, 'update-running', 'api.update-running');
    await requestReboot(ctx.dataDir, install?.state === 'installed' ? `to start system ${install.slot} (${install.version ?? 'new version'})` : 'on request');
    return { rebooting: true };
  });
}
