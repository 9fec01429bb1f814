// A small clamd client: the zINSTREAM command over a unix socket or TCP.
//
// Protocol (clamd(8)): send "zINSTREAM\0", then the data as chunks, each preceded by its length as a
// 4-byte big-endian integer, and a zero-length chunk to end. clamd answers one NUL-terminated line:
// "stream: OK", "stream: <Name> FOUND", or "<text> ERROR" (e.g. "INSTREAM size limit exceeded").
// Anything but a clear OK or FOUND — an error line, a refused connection, a timeout — is a failure
// the caller must treat as "not scanned", never as clean.
//
// Our own rather than a library's, on purpose: the antivirus stage needs a result as a value
// (clean / infected / failed with a reason the admin can act on, never a throw mid-pipeline), a
// stream from memory or a file, and the StreamMaxLength hint below. A library client would still
// need a wrapper turning its errors into those values, around a protocol that is one short exchange;
// test/unit/pipeline-antivirus.test.ts runs this one against a real clamd.
import net from 'node:net';
import { createReadStream } from 'node:fs';

/** A unix socket path ("/run/clamav/clamd.ctl") or "host:port". */
export type ClamdTarget = string;

export type ScanResult = { status: 'clean' } | { status: 'infected'; virus: string } | { status: 'failed'; error: string };

const CHUNK = 64 * 1024;

function connect(target: ClamdTarget): net.Socket {
  if (target.startsWith('/')) return net.createConnection({ path: target });
  const colon = target.lastIndexOf(':');
  const host = target.slice(0, colon).replace(/^\[|\]$/g, '');
  return net.createConnection({ host, port: Number(target.slice(colon + 1)) });
}

/** Sends one NUL-terminated command and collects the reply until clamd closes or ends the line. */
function exchange(target: ClamdTarget, timeoutMs: number, write: (sock: net.Socket) => Promise<void>): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(target);
    const chunks: Buffer[] = [];
    let settled = false;
    const done = (err: Error | null, reply?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(reply ?? '');
    };
    const timer = setTimeout(() => done(new Error(`clamd at ${target} did not answer within ${timeoutMs / 1000} s`)), timeoutMs);
    // clamd answers and closes as soon as a stream exceeds its StreamMaxLength; the answer is often
    // lost to the broken pipe that follows, so a reset while sending says what is the likely cause.
    const received = () => Buffer.concat(chunks).toString('utf8').replace(/\0[\s\S]*$/, '').trim();
    let connected = false;
    const failed = (err: NodeJS.ErrnoException) => {
      if (chunks.length) return done(null, received());
      const hint = connected && (err.code === 'EPIPE' || err.code === 'ECONNRESET')
        ? ' (clamd closed the connection while the message was sent: is its StreamMaxLength smaller than filtering.oversize.maxBytes?)'
        : '';
      done(new Error(`cannot talk to clamd at ${target}: ${err.message}${hint}`));
    };
    sock.on('error', failed);
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      const all = Buffer.concat(chunks);
      const nul = all.indexOf(0);
      if (nul >= 0) done(null, all.subarray(0, nul).toString('utf8'));
    });
    sock.on('end', () => done(null, received()));
    sock.on('connect', () => {
      connected = true;
      write(sock).catch(failed);
    });
  });
}

function writeAsync(sock: net.Socket, data: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (sock.destroyed) return reject(new Error('the connection was closed'));
    sock.write(data, (err) => (err ? reject(err) : resolve()));
  });
}

function frame(len: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(len);
  return b;
}

/** Interprets clamd's answer to INSTREAM. */
export function parseReply(reply: string): ScanResult {
  const text = reply.replace(/^stream:\s*/, '').trim();
  if (text === 'OK') return { status: 'clean' };
  const found = /^(.+) FOUND$/.exec(text);
  if (found) return { status: 'infected', virus: found[1] };
  if (/size limit exceeded/i.test(text)) {
    return { status: 'failed', error: `clamd answered: ${text} (its StreamMaxLength is smaller than the message: raise it in clamd.conf to at least filtering.oversize.maxBytes, or lower that setting)` };
  }
  return { status: 'failed', error: text ? `clamd answered: ${text}` : 'clamd closed the connection without an answer' };
}

/** Scans a file (streamed, never read whole) or a buffer. Never throws: failures come back as values. */
export async function scan(target: ClamdTarget, source: { path: string } | { data: Buffer }, timeoutMs: number): Promise<ScanResult> {
  try {
    const reply = await exchange(target, timeoutMs, async (sock) => {
      if ('data' in source) {
        // In memory already: the whole exchange goes out as one write (one syscall for most mail).
        sock.cork();
        sock.write('zINSTREAM\0');
        for (let off = 0; off < source.data.length; off += CHUNK) {
          const part = source.data.subarray(off, off + CHUNK);
          sock.write(frame(part.length));
          sock.write(part);
        }
        const last = writeAsync(sock, frame(0));
        sock.uncork();
        await last;
        return;
      }
      await writeAsync(sock, 'zINSTREAM\0');
      for await (const part of createReadStream(source.path, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) {
        await writeAsync(sock, Buffer.concat([frame(part.length), part]));
      }
      await writeAsync(sock, frame(0));
    });
    return parseReply(reply);
  } catch (err) {
    return { status: 'failed', error: (err as Error).message };
  }
}

/** PING → PONG: is clamd up and answering? */
export async function ping(target: ClamdTarget, timeoutMs = 2000): Promise<boolean> {
  try {
    const reply = await exchange(target, timeoutMs, (sock) => writeAsync(sock, 'zPING\0'));
    return reply.trim() === 'PONG';
  } catch {
    return false;
  }
}

/** VERSION: clamd's engine and loaded signature version, e.g. "ClamAV 1.0.7/27470/Mon Nov 30 09:30:00 2026". */
export async function version(target: ClamdTarget, timeoutMs = 2000): Promise<string | undefined> {
  try {
    return (await exchange(target, timeoutMs, (sock) => writeAsync(sock, 'zVERSION\0'))).trim();
  } catch {
    return undefined;
  }
}

/** RELOAD: clamd reloads its databases in the background (scans go on with the old ones meanwhile). */
export async function reload(target: ClamdTarget, timeoutMs = 5000): Promise<boolean> {
  try {
    return (await exchange(target, timeoutMs, (sock) => writeAsync(sock, 'zRELOAD\0'))).trim() === 'RELOADING';
  } catch {
    return false;
  }
}
