// Backup and restore through the console (appliance/backup/backup.ts does the work): an admin
// downloads an encrypted archive of everything, streamed as it is written, or uploads one to
// restore; the setup wizard takes one instead of its setup steps, on a fresh box.
// The archive travels as the raw body (content type application/vnd.mailmoat.backup, streamed,
// never buffered whole); the passphrase in the X-Mailmoat-Passphrase header, percent-encoded
// (encodeURIComponent) so any characters fit. Both are POSTs, so the guard audits them.
// A restore is checked whole and staged first; it takes effect when the daemon restarts, which
// it asks for at once (onRestoreStaged) where it runs as a service. While a new system is on
// trial a restore is refused like any settings change (the system it could fall back to must
// still read the data: route-context.ts, heldRefusal).
// The scheduled backup to an SFTP server (appliance/system/remote-backup.ts) shows its last run
// here, and an admin may run it at once (to try the settings).
import { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { BackupError } from '../../backup/archive.ts';
import { backupStream, passphraseProblem, stageRestore } from '../../backup/backup.ts';
import { heldRefusal, type ConsoleContext } from '../route-context.ts';
import { ApiError } from '../errors.ts';

export const BACKUP_MEDIA_TYPE = 'application/vnd.mailmoat.backup';
const adminOnly = { roles: ['admin'] as const, targets: () => [{ system: true as const }] };
const Restored = Type.Object({ ok: Type.Literal(true), entries: Type.Integer(), files: Type.Integer(), createdAt: Type.String(), restarting: Type.Boolean() });

const refused = (err: BackupError) => new ApiError(400, `backup-${err.code}`, { key: 'api.backup-refused', params: { detail: err.message } });

function passphraseOf(req: FastifyRequest): string {
  const raw = req.headers['x-mailmoat-passphrase'];
  let passphrase = '';
  try {
    passphrase = typeof raw === 'string' ? decodeURIComponent(raw) : '';
  } catch {
    throw refused(new BackupError('bad-content', 'the X-Mailmoat-Passphrase header is not percent-encoded'));
  }
  return passphrase;
}

export default async function backupRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  // The archive is handed to the route as the request stream: no size limit beyond the disk's.
  app.addContentTypeParser(BACKUP_MEDIA_TYPE, { bodyLimit: Number.MAX_SAFE_INTEGER }, (_req, payload, done) => done(null, payload));

  app.post('/api/system/backup', {
    config: { access: adminOnly },
    schema: { body: Type.Object({ passphrase: Type.String({ maxLength: 1024 }) }) },
  }, async (req, reply) => {
    const problem = passphraseProblem(req.body.passphrase);
    if (problem) throw refused(new BackupError('bad-content', problem));
    const stamp = new Date().toISOString();
    req.auditDetail = { createdAt: stamp };
    reply.header('content-type', BACKUP_MEDIA_TYPE);
    reply.header('content-disposition', `attachment; filename="mailmoat-backup-${stamp.slice(0, 10)}.mmbackup"`);
    return reply.send(Readable.from(backupStream(ctx.store, ctx.dataDir, req.body.passphrase, new Date(stamp)), { objectMode: false }));
  });

  // One restore at a time: they would share the staging folder.
  let restoring = false;
  const restore = async (req: FastifyRequest) => {
    if (!req.headers['content-type']?.startsWith(BACKUP_MEDIA_TYPE)) {
      throw new ApiError(415, 'unsupported-media-type', 'api.media-type');
    }
    if (restoring) throw new ApiError(409, 'restore-running', 'api.restore-running');
    await ctx.config.checkChangeable().catch((err: unknown) => { throw heldRefusal(err); });
    restoring = true;
    try {
      const { manifest, summary } = await stageRestore(ctx.dataDir, req.body as Readable, passphraseOf(req));
      req.auditDetail = { createdAt: manifest.createdAt, entries: summary.entries, files: summary.files };
      const restarting = Boolean(ctx.onRestoreStaged);
      // After the reply is out: the restart closes this server.
      if (ctx.onRestoreStaged) setImmediate(ctx.onRestoreStaged);
      return { ok: true as const, entries: summary.entries, files: summary.files, createdAt: manifest.createdAt, restarting };
    } catch (err) {
      if (err instanceof BackupError) throw refused(err);
      throw err;
    } finally {
      restoring = false;
    }
  };
  app.get('/api/system/remote-backup', { config: { access: adminOnly } }, async () => ctx.remoteBackup.status());
  app.post('/api/system/remote-backup/run', { config: { access: adminOnly } }, async (req) => {
    const run = await ctx.remoteBackup.run();
    req.auditDetail = { ok: run.ok, ...(run.file ? { file: run.file } : {}), ...(run.error ? { error: run.error } : {}) };
    return run;
  });
  app.post('/api/system/restore', { config: { access: adminOnly }, schema: { response: { 200: Restored } } }, restore);
  // A fresh box: the restored accounts, settings and certificate replace the wizard's steps.
  app.post('/api/setup/restore', { config: { access: { roles: 'setup' } }, schema: { response: { 200: Restored } } }, restore);
}
