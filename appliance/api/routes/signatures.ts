// Virus signatures (admin only; appliance/system/signatures.ts does the work): their versions and
// age, clamd's loaded version, and the upload of .cvd/.cld files for boxes without Internet
// access. The file is the raw body (any content type but JSON, streamed to disk, never buffered:
// main.cvd is over 100 MB), its name the last path segment; clamd reloads after an upload.
// The status includes freshclam's last checks as its log tells them (appliance/system/freshclam.ts).
import type { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { reload, version } from '../../pipeline/clamd-client.ts';
import { freshclamStatus } from '../../system/freshclam.ts';
import { installDatabase, signatureStatus, SignatureUploadError, SIGNATURES_DIR } from '../../system/signatures.ts';
import type { ConsoleContext } from '../route-context.ts';
import { ApiError } from '../errors.ts';

const adminOnly = { roles: ['admin'] as const, targets: () => [{ system: true as const }] };

/** clamd's target (a test's own, else the configured one) and whether scanning is on. */
export function clamdOf(ctx: ConsoleContext): string | undefined {
  const av = ctx.config.current.filtering.antivirus;
  return av.enabled ? ctx.clamav?.clamd ?? av.clamd : undefined;
}

export default async function signatureRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const dir = ctx.clamav?.databaseDir ?? SIGNATURES_DIR;
  // In this plugin only, a binary body reaches the route as a stream (the server buffers it elsewhere).
  app.removeContentTypeParser('application/octet-stream');
  app.addContentTypeParser('application/octet-stream', { bodyLimit: 1024 * 1024 * 1024 }, (_req, payload, done) => done(null, payload));

  app.get('/api/system/signatures', { config: { access: adminOnly } }, async () => {
    const clamd = clamdOf(ctx);
    return { ...await signatureStatus(dir, clamd ? await version(clamd) : undefined), freshclam: await freshclamStatus(dir) };
  });

  app.post('/api/system/signatures/:file', {
    config: { access: adminOnly },
    schema: { params: Type.Object({ file: Type.String({ maxLength: 40 }) }) },
  }, async (req) => {
    try {
      const installed = await installDatabase(dir, req.params.file, req.body as Readable);
      const clamd = clamdOf(ctx);
      const reloaded = clamd ? await reload(clamd) : false;
      req.auditDetail = { file: installed.file, version: installed.version };
      return { installed, reloaded };
    } catch (err) {
      if (err instanceof SignatureUploadError) throw new ApiError(400, 'bad-signatures', { key: 'api.signatures-refused', params: { detail: err.message } });
      throw err;
    }
  });
}
