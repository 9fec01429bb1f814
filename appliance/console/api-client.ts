// The console menu's client of the daemon's local API (appliance/api/local-socket.ts): plain HTTP
// over the unix socket. Being allowed to open the socket is the menu's credential.
import { constants } from 'node:fs';
import { access, open, stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { DEFAULT_SOCKET, type LocalStatus } from '../api/local-socket.ts';

export type { LocalStatus };

export function socketPath(): string {
  return process.env.MAILMOAT_API_SOCKET || DEFAULT_SOCKET;
}

/** Calls the local API; rejects with a sentence the admin can act on. */
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
        try { value = JSON.parse(text); } catch { return reject(new Error(`the daemon answered ${res.statusCode} with something that is not JSON`)); }
        if (res.statusCode === 200) resolve(value as T);
        else reject(new Error((value as { error?: string }).error ?? `the daemon answered ${res.statusCode}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error('the daemon did not answer within 15 s')));
    req.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? 'is the mailmoat service running? (menu item 1 shows it; item 4 restarts it)'
        : err.code === 'EACCES' ? 'this user may not use the socket (it must be in the daemon\'s group)' : err.message;
      reject(new Error(`cannot reach the daemon at ${path}: ${why}`));
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
  if (!info?.isDirectory()) throw new Error(`${dir} is not a folder: mount the USB disk and give its folder`);
  await access(dir, constants.W_OK).catch(() => { throw new Error(`this user may not write to ${dir}`); });
  const { name, body } = await new Promise<{ name: string; body: Buffer }>((resolve, reject) => {
    const req = http.request({ socketPath: socket, method: 'POST', path: '/support-bundle', timeout: 120_000 }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const body = Buffer.concat(parts);
        const name = res.headers['x-file-name'];
        if (res.statusCode === 200 && typeof name === 'string' && /^[\w.@-]+\.tar\.gz$/.test(name)) return resolve({ name, body });
        let why = `the daemon answered ${res.statusCode}`;
        try { why = (JSON.parse(body.toString()) as { error?: string }).error ?? why; } catch { /* not JSON: the status says it */ }
        reject(new Error(why));
      });
    });
    req.on('timeout', () => req.destroy(new Error('the daemon did not make the bundle within 120 s')));
    req.on('error', (err) => reject(new Error(`cannot reach the daemon at ${socket}: ${err.message}`)));
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
