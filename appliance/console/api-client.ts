// The console menu's client of the daemon's local API (appliance/api/local-socket.ts): plain HTTP
// over the unix socket. Being allowed to open the socket is the menu's credential. Every failure
// is a DaemonError: its message is English, its text the server catalog's (`local.*`), so the menu
// says it in its own language.
import { constants } from 'node:fs';
import { access, open, stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { DEFAULT_SOCKET, type LocalStatus } from '../api/local-socket.ts';
import { isErrorKey, LocalizedError, type ErrorKey, type LocalText } from '../i18n/server-messages.ts';

export type { LocalStatus };

export function socketPath(): string {
  return process.env.MAILMOAT_API_SOCKET || DEFAULT_SOCKET;
}

/** A failure of the local API or of reaching it, with its text in the catalog. */
export class DaemonError extends LocalizedError {}

const fail = (key: ErrorKey, params?: Record<string, string | number>) => new DaemonError(key, params);

/** The text of an error body from the daemon, when it is one of the catalog's. */
function bodyText(value: unknown): LocalText | undefined {
  const text = (value as { text?: { key?: unknown; params?: unknown } } | null)?.text;
  if (typeof text?.key !== 'string' || !text.key.startsWith('local.') || !isErrorKey(text.key)) return undefined;
  const params = text.params && typeof text.params === 'object' ? text.params as Record<string, string | number> : undefined;
  return params ? { key: text.key, params } : { key: text.key };
}

/** Calls the local API; rejects with a DaemonError the admin can act on. */
export function callDaemon<T>(method: 'GET' | 'POST', route: string, body?: unknown, path = socketPath()): Promise<T> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ socketPath: path, method, path: route, timeout: 15_000,
      headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let value: unknown;
        try { value = JSON.parse(text); } catch { return reject(fail('local.not-json-answer', { status: res.statusCode ?? 0 })); }
        if (res.statusCode === 200) return resolve(value as T);
        const known = bodyText(value);
        reject(known ? new DaemonError(known.key, known.params) : fail('local.status', { status: res.statusCode ?? 0 }));
      });
    });
    req.on('timeout', () => req.destroy(fail('local.timeout', { seconds: 15 })));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof DaemonError) return reject(err);
      reject(err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? fail('local.unreachable', { socket: path })
        : err.code === 'EACCES' ? fail('local.no-permission', { socket: path }) : fail('local.connection-failed', { socket: path, detail: err.message }));
    });
    req.end(payload);
  });
}

/**
 * Asks the daemon for a support bundle and writes it into `folder` (a mounted USB disk): the
 * folder is checked first, so a typo costs no bundle; the file is synced before it is reported.
 */
export async function supportBundleTo(folder: string, socket = socketPath()): Promise<{ file: string; bytes: number }> {
  const dir = path.resolve(folder);
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw fail('local.bundle-not-folder', { folder: dir });
  await access(dir, constants.W_OK).catch(() => { throw fail('local.bundle-not-writable', { folder: dir }); });
  const { name, body } = await new Promise<{ name: string; body: Buffer }>((resolve, reject) => {
    const req = http.request({ socketPath: socket, method: 'POST', path: '/support-bundle', timeout: 120_000 }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const body = Buffer.concat(parts);
        const name = res.headers['x-file-name'];
        if (res.statusCode === 200 && typeof name === 'string' && /^[\w.@-]+\.tar\.gz$/.test(name)) return resolve({ name, body });
        let known: LocalText | undefined;
        try { known = bodyText(JSON.parse(body.toString())); } catch { /* not JSON: the status says it */ }
        reject(known ? new DaemonError(known.key, known.params) : fail('local.status', { status: res.statusCode ?? 0 }));
      });
    });
    req.on('timeout', () => req.destroy(fail('local.bundle-timeout', { seconds: 120 })));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof DaemonError) return reject(err);
      reject(err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? fail('local.unreachable', { socket })
        : err.code === 'EACCES' ? fail('local.no-permission', { socket }) : fail('local.connection-failed', { socket, detail: err.message }));
    });
    req.end();
  });
  const file = path.join(dir, name);
  const handle = await open(file, 'wx', 0o644);
  try {
    await handle.writeFile(body);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { file, bytes: body.length };
}
