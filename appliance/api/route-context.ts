// What every route module receives: the stores the console owns, the configuration service and
// the optional providers, plus the helpers routes share (changing the configuration with the
// server's problems mapped back to the form's fields, starting a session).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ConfigService } from '../config/config-service.ts';
import { ConfigError } from '../config/config-service.ts';
import type { NetworkTrials } from '../system/network-trial.ts';
import type { Config } from '../config/schema.ts';
import type { ConfigProblem } from '../config/validate.ts';
import type { Store } from '../store/store.ts';
import type { RemoteBackup } from '../system/remote-backup.ts';
import { TrialHold } from '../system/updates.ts';
import type { AuditLog } from './audit.ts';
import { ApiError, invalid } from './errors.ts';
import { SESSION_COOKIE } from './guard.ts';
import type { Providers } from './providers/interfaces.ts';
import type { AttemptLimiter } from '../limits/attempt-limiter.ts';
import type { SessionStore } from './sessions.ts';
import type { SetupState } from './setup-state.ts';
import type { TokenStore, UserStore } from './users.ts';

export interface ConsoleContext {
  store: Store;
  config: ConfigService;
  dataDir: string;
  users: UserStore;
  sessions: SessionStore;
  tokens: TokenStore;
  audit: AuditLog;
  setup: SetupState;
  providers: Providers;
  loginLimiter: AttemptLimiter;
  setupLimiter: AttemptLimiter;
  /** Called after a new TLS certificate is stored, so the listener can start using it. */
  onTlsChange: () => Promise<void>;
  /** Called once a restore is staged, to restart the daemon onto it; absent where nothing can. */
  onRestoreStaged?: () => void;
  /** ClamAV's database folder and clamd, where they are not the defaults (tests). */
  clamav?: { databaseDir?: string; clamd?: string };
  /** The box's addresses others reach it at (DNS records to publish); default: its interfaces'. */
  addresses?: () => string[];
  /** Network changes from the browser, tried before they are kept (system/network-trial.ts). */
  network: NetworkTrials;
  /** Scheduled backups to the SFTP server (status, run now). */
  remoteBackup: RemoteBackup;
  /** System updates: the rauc command and the kernel command line, where they are not the box's (tests). */
  updates?: { rauc?: string; cmdline?: string };
}

/**
 * Applies a change to a copy of the configuration and stores it through ConfigService (which
 * validates it). Problems come back as a 400 whose paths are relative to `base` (e.g. the
 * domain being edited), so the form can put each message next to its field.
 */
export async function changeConfig(ctx: ConsoleContext, mutate: (draft: Config) => void, base = ''): Promise<Config> {
  const draft = structuredClone(ctx.config.current);
  mutate(draft);
  try {
    return await ctx.config.replace(draft);
  } catch (err) {
    if (err instanceof ConfigError) throw invalid(relativeProblems(err.problems, base));
    throw heldRefusal(err);
  }
}

/** A change refused while a system update is on trial, as the console's 409; other errors as they are. */
export function heldRefusal(err: unknown): unknown {
  if (err instanceof TrialHold) return new ApiError(409, 'update-on-trial', { key: 'api.update-on-trial', params: { slot: err.slot, version: err.version, until: err.until.toISOString() } });
  return err;
}

export function relativeProblems(problems: ConfigProblem[], base: string): ConfigProblem[] {
  if (!base) return problems;
  return problems.map((p) => (p.path === base || p.path.startsWith(base + '/') ? { ...p, path: p.path.slice(base.length) || '/' } : p));
}

export function startSessionCookie(reply: FastifyReply, id: string): void {
  reply.setCookie(SESSION_COOKIE, id, { httpOnly: true, secure: true, sameSite: 'strict', path: '/' });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
}

export function clientKey(req: FastifyRequest): string {
  return req.ip;
}

export function retryLater(seconds: number): ApiError {
  return new ApiError(429, 'too-many-attempts', { key: 'api.too-many-attempts', params: { seconds } }, undefined, { 'retry-after': String(seconds) });
}
