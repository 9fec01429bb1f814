// The console menu's client of the daemon's local API (appliance/api/local-socket.ts): plain HTTP
// over the unix socket. Being allowed to open the socket is the menu's credential.
import http from 'node:http';
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
