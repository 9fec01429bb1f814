// The daemon's local API: a small HTTP/JSON server on a unix socket (/run/mailmoat/api.sock on the
// box) for the serial-console menu, which must not open the store itself. There is no login:
// the socket's permissions are the authentication. It is created mode 0660, so only the daemon's
// user and members of its group (on the image: the `maint` console user) can connect; anyone
// who can, may do what the menu does. Routes:
//   GET  /status                 queue, counters, disks, setup mode (+ setup code while pending)
//   POST /admin/reset-password   {"username"?} -> a new random password for a console admin
//   POST /queue/flush            deliver everything queued now, ignoring retry waits
import { randomBytes } from 'node:crypto';
import { chmod, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type { DeliveryQueue } from '../delivery/queue.ts';
import type { Stats } from '../stats/counters.ts';
import type { Store } from '../store/store.ts';
import type { DiskWatcher } from '../system/disk-watcher.ts';
import { hashPassword } from './passwords.ts';
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
}

export interface LocalStatus {
  queue: { messages: number; deferred: number; oldestAgeSeconds: number };
  totals: Record<string, number>;
  disks: { role: string; mount: string; percent: number; level: string }[];
  quarantine: { bytes: number; percent: number; level: string } | null;
  setup: { pending: boolean; code?: string };
}

class LocalError extends Error {
  status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export interface LocalApi {
  socketPath: string;
  close(): Promise<void>;
}

/** Starts the local API on `socketPath` (a stale socket file there is replaced). */
export async function startLocalApi(deps: LocalApiDeps): Promise<LocalApi> {
  const users = new UserStore(deps.store);

  const status = async (): Promise<LocalStatus> => {
    const setup = await SetupState.open(deps.store, deps.dataDir);
    const code = setup.inSetup ? (await readFile(path.join(deps.dataDir, 'setup-code'), 'utf8').catch(() => '')).trim() : '';
    const d = deps.disks.status;
    return {
      queue: { ...deps.queue.size(), oldestAgeSeconds: Math.round(deps.queue.oldestAgeMs() / 1000) },
      totals: deps.stats.totals(),
      disks: (d?.filesystems ?? []).map((f) => ({ role: f.role, mount: f.mount, percent: f.percent, level: f.level })),
      quarantine: d ? { bytes: d.quarantineBytes, percent: d.quarantinePercent, level: d.quarantineLevel } : null,
      setup: { pending: setup.inSetup, ...(code ? { code } : {}) },
    };
  };

  const resetPassword = async (body: { username?: unknown }): Promise<{ username: string; password: string }> => {
    const admins = (await users.all()).filter((u) => u.role === 'admin');
    if (admins.length === 0) throw new LocalError(409, 'there is no console admin yet: finish the setup wizard with the setup code');
    let user = admins[0];
    if (typeof body.username === 'string' && body.username) {
      const found = admins.find((u) => u.username.toLowerCase() === (body.username as string).toLowerCase());
      if (!found) throw new LocalError(404, `"${body.username}" is not a console admin; admins: ${admins.map((u) => u.username).join(', ')}`);
      user = found;
    } else if (admins.length > 1) {
      throw new LocalError(400, `several admins exist (${admins.map((u) => u.username).join(', ')}): name the one to reset`);
    }
    // 16 characters from an alphabet without look-alikes: read off the console, typed by hand.
    const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
    const password = [...randomBytes(16)].map((b) => alphabet[b % alphabet.length]).join('');
    user.passwordHash = await hashPassword(password);
    user.disabled = false;
    user.failedLogins = 0;
    delete user.lockedUntil;
    await users.save(user);
    return { username: user.username, password };
  };

  const server = http.createServer((req, res) => {
    const send = (code: number, value: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { raw += d; if (raw.length > 64 * 1024) req.destroy(); });
    req.on('end', () => {
      const route = `${req.method} ${req.url}`;
      const run = async (): Promise<unknown> => {
        if (route === 'GET /status') return status();
        if (route === 'POST /admin/reset-password') {
          let body: { username?: unknown } = {};
          try { body = raw ? JSON.parse(raw) : {}; } catch { throw new LocalError(400, 'the body is not JSON'); }
          return resetPassword(body);
        }
        if (route === 'POST /queue/flush') {
          deps.queue.flush();
          return { flushed: deps.queue.size().messages };
        }
        throw new LocalError(404, `${route} does not exist`);
      };
      run().then((value) => send(200, value), (err: Error) =>
        send(err instanceof LocalError ? err.status : 500, { error: err.message }));
    });
  });

  await rm(deps.socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot listen on the local API socket ${deps.socketPath}: ${err.message}`)));
    server.listen(deps.socketPath, resolve);
  });
  await chmod(deps.socketPath, 0o660);
  return {
    socketPath: deps.socketPath,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(deps.socketPath, { force: true });
    },
  };
}
