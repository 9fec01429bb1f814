// The daemon's local API: a small HTTP/JSON server on a unix socket (/run/mailmoat/api.sock on the
// box) for the serial-console menu, which must not open the store itself. There is no login:
// the socket's permissions are the authentication. It is created mode 0660, so only the daemon's
// user and members of its group (on the image: the `maint` console user) can connect; anyone
// who can, may do what the menu does. A fastify instance like the console's, listening on the
// socket; errors are `{ "error": sentence, "text": {key, params} }`, the text a key of the server's
// catalog (i18n/server-messages.ts `local.*`) so the menu says it in its own language. Routes:
//   GET  /status                 queue, counters, disks, setup mode (+ setup code while pending),
//                                virus signatures and freshclam's checks (times in the box's zone)
//   POST /menu/unlock            {"username","password"} -> whether a console admin's password is
//                                right: the menu asks for it once setup is done, with the web
//                                console's lockout rules (wrong passwords count for both)
//   POST /admin/reset-password   {"username"?} -> a new random password for a console admin (its
//                                web console sessions end with the old password)
//   POST /queue/flush            deliver everything queued now, ignoring retry waits
//   POST /support-bundle         the support bundle (.tar.gz, its name in X-File-Name), audited;
//                                the menu writes it where the admin says (a USB disk)
import { randomBytes } from 'node:crypto';
import { chmod, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyError } from 'fastify';
import Type from 'typebox';
import type { DeliveryQueue } from '../delivery/queue.ts';
import type { Stats } from '../stats/counters.ts';
import type { Store } from '../store/store.ts';
import type { DiskWatcher } from '../system/disk-watcher.ts';
import type { ConsoleSettings } from '../config/schema.ts';
import type { Language } from '../i18n/catalog.ts';
import { errorText, type ErrorKey, type LocalText, type TextParams } from '../i18n/server-messages.ts';
import { freshclamStatus, type FreshclamStatus } from '../system/freshclam.ts';
import { signatureStatus } from '../system/signatures.ts';
import { AuditLog } from './audit.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { SessionStore } from './sessions.ts';
import { SetupState } from './setup-state.ts';
import { UserStore } from './users.ts';

export const DEFAULT_SOCKET = '/run/mailmoat/api.sock';

export interface LocalApiDeps {
  socketPath: string;
  store: Store;
  dataDir: string;
  queue: DeliveryQueue;
  stats: Stats;
  disks: DiskWatcher;
  /** The console's settings: idle session minutes, and the lockout rules the menu's unlock shares. */
  consoleSettings: () => ConsoleSettings;
  /** Where the web console can be opened, as a person types it (none when it does not run). */
  consoleUrls: () => string[];
  /** Where the ClamAV databases and freshclam's log are (the status's signature lines); none: not shown. */
  signaturesDir?: string;
  /** The appliance's time zone, for the times the menu shows. */
  timezone?: () => string;
  /** Builds the support bundle (appliance/system/support-bundle.ts). */
  supportBundle?: () => Promise<{ name: string; archive: Buffer }>;
}

export interface LocalStatus {
  queue: { messages: number; deferred: number; oldestAgeSeconds: number };
  totals: Record<string, number>;
  disks: { role: string; mount: string; percent: number; level: string }[];
  quarantine: { bytes: number; percent: number; level: string } | null;
  setup: { pending: boolean; code?: string };
  consoleUrls: string[];
  /** The console's language (chosen in the setup wizard): the maintenance menu speaks it too. */
  language: Language;
  /** The newest ClamAV database (none installed: no version) and freshclam's checks. */
  antivirus?: { version?: number; newestAt?: string; ageSeconds?: number; stale: boolean; freshclam: FreshclamStatus };
  /** The zone the menu shows times in (the appliance's). */
  timezone: string;
}

class LocalError extends Error {
  status: number;
  text: LocalText;
  constructor(status: number, key: ErrorKey, params?: TextParams) {
    const text = params ? { key, params } : { key };
    super(errorText('en', text));
    this.status = status;
    this.text = text;
  }
}

/** An error body: the sentence in English, and its text for the menu to say in its language. */
const errorBody = (text: LocalText) => ({ error: errorText('en', text), text });

export interface LocalApi {
  socketPath: string;
  close(): Promise<void>;
}

/** Starts the local API on `socketPath` (a stale socket file there is replaced). */
export async function startLocalApi(deps: LocalApiDeps): Promise<LocalApi> {
  const users = new UserStore(deps.store);
  const sessions = new SessionStore(deps.store, () => deps.consoleSettings().sessionIdleMinutes);
  const audit = new AuditLog(deps.store);
  // Verified against when the name is unknown, so a wrong name costs as much as a wrong password.
  const dummyHash = hashPassword('not a real password, only for timing');

  const status = async (): Promise<LocalStatus> => {
    const setup = await SetupState.open(deps.store, deps.dataDir);
    const code = setup.inSetup ? (await readFile(path.join(deps.dataDir, 'setup-code'), 'utf8').catch(() => '')).trim() : '';
    const d = deps.disks.status;
    const dir = deps.signaturesDir;
    const antivirus = dir ? await Promise.all([signatureStatus(dir), freshclamStatus(dir)]).then(([sig, freshclam]) => ({
      ...(sig.databases.length ? { version: Math.max(...sig.databases.map((x) => x.version)) } : {}),
      ...(sig.newestAt ? { newestAt: sig.newestAt } : {}), ...(sig.ageSeconds !== undefined ? { ageSeconds: sig.ageSeconds } : {}),
      stale: sig.stale, freshclam,
    })) : undefined;
    return {
      queue: { ...deps.queue.size(), oldestAgeSeconds: Math.round(deps.queue.oldestAgeMs() / 1000) },
      totals: deps.stats.totals(),
      disks: (d?.filesystems ?? []).map((f) => ({ role: f.role, mount: f.mount, percent: f.percent, level: f.level })),
      quarantine: d ? { bytes: d.quarantineBytes, percent: d.quarantinePercent, level: d.quarantineLevel } : null,
      setup: { pending: setup.inSetup, ...(code ? { code } : {}) },
      consoleUrls: deps.consoleUrls(),
      language: deps.consoleSettings().language,
      ...(antivirus ? { antivirus } : {}),
      timezone: deps.timezone?.() ?? 'UTC',
    };
  };

  const resetPassword = async (username: string | undefined): Promise<{ username: string; password: string }> => {
    const admins = (await users.all()).filter((u) => u.role === 'admin');
    if (admins.length === 0) throw new LocalError(409, 'local.no-admin');
    let user = admins[0];
    if (username) {
      const found = admins.find((u) => u.username.toLowerCase() === username.toLowerCase());
      if (!found) throw new LocalError(404, 'local.not-admin', { username, admins: admins.map((u) => u.username).join(', ') });
      user = found;
    } else if (admins.length > 1) {
      throw new LocalError(400, 'local.several-admins', { admins: admins.map((u) => u.username).join(', ') });
    }
    // 16 characters from an alphabet without look-alikes: read off the console, typed by hand.
    const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
    const password = [...randomBytes(16)].map((b) => alphabet[b % alphabet.length]).join('');
    user.passwordHash = await hashPassword(password);
    user.disabled = false;
    user.failedLogins = 0;
    delete user.lockedUntil;
    await users.saveEndingSessions(user, sessions);
    return { username: user.username, password };
  };

  // The same rules as the web console's login: an admin's wrong passwords count towards its
  // lockout whichever door they come through; a locked or disabled account does not unlock.
  const unlock = async (username: string, password: string): Promise<{ username: string }> => {
    const user = (await users.all()).find((u) => u.role === 'admin' && u.username.toLowerCase() === username.toLowerCase());
    const fail = async (why: string, status = 401, key: ErrorKey = 'local.bad-credentials', params?: TextParams) => {
      await audit.record({ actor: username, ip: 'serial console', action: 'menu unlock failed', detail: { reason: why } });
      throw new LocalError(status, key, params);
    };
    if (!user) {
      await verifyPassword(await dummyHash, password);
      return fail('not a console admin');
    }
    if (user.lockedUntil && Date.parse(user.lockedUntil) > Date.now()) {
      const minutes = Math.ceil((Date.parse(user.lockedUntil) - Date.now()) / 60_000);
      return fail('account locked', 423, 'local.locked', { minutes });
    }
    if (!(await verifyPassword(user.passwordHash, password))) {
      const settings = deps.consoleSettings();
      user.failedLogins += 1;
      if (user.failedLogins >= settings.lockoutAttempts) {
        user.lockedUntil = new Date(Date.now() + settings.lockoutMinutes * 60_000).toISOString();
        user.failedLogins = 0;
      }
      await users.save(user);
      return fail(user.lockedUntil ? 'wrong password; account locked' : 'wrong password');
    }
    if (user.disabled) return fail('account disabled', 403, 'local.disabled');
    if (user.failedLogins) {
      user.failedLogins = 0;
      await users.save(user);
    }
    await audit.record({ actor: user.username, role: user.role, ip: 'serial console', action: 'menu unlock' });
    return { username: user.username };
  };

  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, forceCloseConnections: true }).withTypeProvider<TypeBoxTypeProvider>();
  app.setErrorHandler((err: FastifyError | LocalError, _req, reply) => {
    if (err instanceof LocalError) return reply.code(err.status).send(errorBody(err.text));
    // Fastify's own refusals: a body that is not JSON (or not the object a route takes), too large.
    const status = (err as FastifyError).statusCode ?? 500;
    const json = (err as FastifyError).code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError;
    return reply.code(status).send(errorBody(json ? { key: 'local.not-json' } : { key: 'local.refused', params: { detail: err.message } }));
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody({ key: 'local.no-route', params: { method: req.method, path: req.url } })));

  app.get('/status', async () => status());
  app.post('/menu/unlock', {
    schema: { body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 320 }), password: Type.String({ minLength: 1, maxLength: 1024 }) }) },
  }, async (req) => unlock(req.body.username, req.body.password));
  app.post('/admin/reset-password', {
    schema: { body: Type.Object({ username: Type.Optional(Type.String({ description: 'which admin; needed when there are several' })) }) },
  }, async (req) => resetPassword(req.body.username));
  app.post('/support-bundle', async (_req, reply) => {
    if (!deps.supportBundle) throw new LocalError(404, 'local.no-bundle');
    const { name, archive } = await deps.supportBundle();
    await audit.record({ actor: 'console menu', ip: 'serial console', action: 'support bundle', detail: { file: name, bytes: archive.length } });
    return reply.header('content-type', 'application/gzip').header('x-file-name', name).send(archive);
  });
  app.post('/queue/flush', async () => {
    deps.queue.flush();
    return { flushed: deps.queue.size().messages };
  });

  await rm(deps.socketPath, { force: true });
  try {
    await app.listen({ path: deps.socketPath });
  } catch (err) {
    await app.close();
    throw new Error(`cannot listen on the local API socket ${deps.socketPath}: ${(err as Error).message}`);
  }
  await chmod(deps.socketPath, 0o660);
  return {
    socketPath: deps.socketPath,
    async close() {
      await app.close();
      await rm(deps.socketPath, { force: true });
    },
  };
}
