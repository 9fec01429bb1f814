// Sending test mail over real SMTP: a whole transaction with nodemailer's client (reporting the
// server's reply or refusal), a raw line-by-line session for protocol-abuse tests, and an
// interactive dialogue (from a chosen loopback address, optionally after STARTTLS) for tests of
// connection and AUTH limits.
import net from 'node:net';
import tls from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection';

export interface SendResult {
  ok: boolean;
  code: number;
  response: string;
  rejected?: string[];
}

export async function sendMail(opts: {
  port: number;
  from: string;
  to: string[];
  raw: string | Buffer;
  tls?: 'none' | 'starttls';
  auth?: { user: string; pass: string };
  size?: number;
}): Promise<SendResult> {
  const conn = new SMTPConnection({
    host: '127.0.0.1', port: opts.port, name: 'client.test',
    ignoreTLS: opts.tls !== 'starttls', requireTLS: opts.tls === 'starttls',
    tls: { rejectUnauthorized: false }, connectionTimeout: 10_000, allowInternalNetworkInterfaces: true,
  });
  // Socket errors after the handshake also reach send()'s callback; keep them from being uncaught.
  conn.on('error', () => {});
  try {
    await new Promise<void>((resolve, reject) => { conn.once('error', reject); conn.connect(() => resolve()); });
    if (opts.auth) await new Promise<void>((resolve, reject) => conn.login({ user: opts.auth!.user, pass: opts.auth!.pass }, (err) => err ? reject(err) : resolve()));
    return await new Promise<SendResult>((resolve) => {
      conn.send({ from: opts.from || false, to: opts.to, ...(opts.size ? { size: opts.size } : {}) } as never, opts.raw, (err, info) => {
        if (err) resolve({ ok: false, code: err.responseCode ?? 0, response: err.response ?? err.message, rejected: err.rejected });
        else resolve({ ok: true, code: Number(info.response.slice(0, 3)), response: info.response, rejected: info.rejected });
      });
    });
  } catch (err) {
    const e = err as { responseCode?: number; response?: string; message: string };
    return { ok: false, code: e.responseCode ?? 0, response: e.response ?? e.message };
  } finally {
    conn.close();
  }
}

/**
 * A raw SMTP dialogue: sends each item and collects the server's complete replies. An item is a
 * line (CRLF appended) or a Buffer sent as is. Returns every reply in order (greeting first).
 */
export async function rawSession(port: number, items: (string | Buffer)[], timeoutMs = 15_000): Promise<string[]> {
  const socket = net.connect({ host: '127.0.0.1', port });
  const replies: string[] = [];
  let buffer = '';
  let wake: (() => void) | undefined;
  socket.on('data', (chunk) => {
    buffer += chunk.toString('latin1');
    let m: RegExpExecArray | null;
    while ((m = /^((?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\n)/.exec(buffer))) {
      replies.push(m[1].trimEnd());
      buffer = buffer.slice(m[1].length);
    }
    wake?.();
  });
  let closed = false;
  socket.on('close', () => { closed = true; wake?.(); });
  socket.on('error', () => {});
  const waitReplies = async (n: number) => {
    const deadline = Date.now() + timeoutMs;
    while (replies.length < n && !closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, 200); });
    }
  };
  await waitReplies(1);
  let expected = 1;
  for (const item of items) {
    if (closed) break;
    socket.write(typeof item === 'string' ? `${item}\r\n` : item);
    // DATA content (a Buffer) gets its reply only with the final dot, which is in the buffer.
    expected += 1;
    await waitReplies(expected);
  }
  socket.destroy();
  return replies;
}

export interface SmtpDialog {
  /** The greeting (or refusal) the server sent first. */
  greeting: string;
  /** Sends one line (CRLF appended) or raw bytes; resolves with the next complete reply, or "(closed)". */
  send(item: string | Buffer): Promise<string>;
  /** The next reply without sending anything (e.g. one the server sends on its own), or "(closed)". */
  reply(): Promise<string>;
  readonly closed: boolean;
  end(): void;
}

/** An interactive SMTP dialogue from `localAddress` (any 127.x.y.z); with `starttls` it has done EHLO, STARTTLS and EHLO again. */
export async function smtpDialog(port: number, opts: { localAddress?: string; starttls?: boolean } = {}): Promise<SmtpDialog> {
  let socket: net.Socket = net.connect({ host: '127.0.0.1', port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
  let buffer = '';
  let closed = false;
  const replies: string[] = [];
  const waiting: ((reply: string) => void)[] = [];
  const onData = (chunk: Buffer) => {
    buffer += chunk.toString('latin1');
    let m: RegExpExecArray | null;
    while ((m = /^((?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\n)/.exec(buffer))) {
      buffer = buffer.slice(m[1].length);
      const r = m[1].trimEnd();
      const w = waiting.shift();
      if (w) w(r); else replies.push(r);
    }
  };
  const onClose = () => { closed = true; for (const w of waiting.splice(0)) w('(closed)'); };
  const reply = () => new Promise<string>((resolve) => {
    if (replies.length) resolve(replies.shift()!);
    else if (closed) resolve('(closed)');
    else waiting.push(resolve);
  });
  const listen = (s: net.Socket) => { s.on('data', onData).on('error', () => {}); s.once('close', onClose); };
  listen(socket);
  const send = (item: string | Buffer) => { const r = reply(); if (!closed) socket.write(typeof item === 'string' ? `${item}\r\n` : item); return r; };
  const greeting = await reply();
  if (opts.starttls) {
    await send('EHLO client.test');
    const ready = await send('STARTTLS');
    if (!ready.startsWith('220')) throw new Error(`STARTTLS refused: ${ready}`);
    socket.removeListener('data', onData).removeListener('close', onClose);
    socket = tls.connect({ socket, rejectUnauthorized: false });
    listen(socket);
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    await send('EHLO client.test');
  }
  return { greeting, send, reply, get closed() { return closed; }, end: () => socket.destroy() };
}
