// Relaying one transaction to one destination with nodemailer's SMTP client, reusing idle
// connections per destination (as an MTA does) so a busy route is not a handshake per message.
// The result says, per recipient, whether the remote accepted, refused for good, or deferred.
import type { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { NodemailerError } from 'nodemailer/lib/errors';

export interface Destination {
  host: string;
  /** The host's name when `host` is an address we resolved (TLS SNI, logs). */
  servername?: string;
  port: number;
  tls: 'opportunistic' | 'required' | 'none';
  auth?: { user: string; pass: string };
}

export interface RecipientReply {
  address: string;
  code: number;
  reply: string;
}

export type TransactionResult =
  /** The remote answered: each recipient accepted (2xx), deferred (4xx) or refused (5xx). */
  | { kind: 'answered'; replies: RecipientReply[] }
  /** We never got an answer about the recipients (connection, TLS, timeout): try elsewhere/later. */
  | { kind: 'unreachable'; reason: string };

interface Idle { conn: SMTPConnection; timer: NodeJS.Timeout }

const IDLE_MS = 5_000;
const MAX_IDLE_PER_DESTINATION = 16;

export class SmtpClient {
  #idle = new Map<string, Idle[]>();
  #heloName: () => string;
  #connectTimeoutMs: number;
  #closed = false;

  /** `heloName` is asked at every new connection, so a changed host name is used from then on. */
  constructor(opts: { heloName: () => string; connectTimeoutMs: number }) {
    this.#heloName = opts.heloName;
    this.#connectTimeoutMs = opts.connectTimeoutMs;
  }

  async send(dest: Destination, envelope: { from: string; to: string[]; size: number }, message: () => Readable): Promise<TransactionResult> {
    const helo = this.#heloName();
    // A connection greeted under another host name is not reused: it idles out.
    const key = `${helo}|${dest.host}|${dest.port}|${dest.tls}|${dest.auth?.user ?? ''}`;
    let conn: SMTPConnection;
    try {
      conn = this.#takeIdle(key) ?? await this.#connect(dest, helo);
    } catch (err) {
      return { kind: 'unreachable', reason: describe(err as NodemailerError) };
    }
    return new Promise((resolve) => {
      conn.send({ from: envelope.from || false, to: envelope.to, size: envelope.size } as never, message(), (err, info) => {
        if (err) {
          conn.close();
          resolve(failureResult(err, envelope.to));
          return;
        }
        const replies: RecipientReply[] = info.accepted.map((address) => ({ address, code: codeOf(info.response, 250), reply: info.response }));
        for (const e of info.rejectedErrors ?? []) {
          replies.push({ address: e.recipient ?? '', code: e.responseCode ?? 550, reply: e.response ?? e.message });
        }
        this.#putIdle(key, conn);
        resolve({ kind: 'answered', replies });
      });
    });
  }

  close(): void {
    this.#closed = true;
    for (const list of this.#idle.values()) for (const { conn, timer } of list) { clearTimeout(timer); conn.quit(); }
    this.#idle.clear();
  }

  #connect(dest: Destination, helo: string): Promise<SMTPConnection> {
    const conn = new SMTPConnection({
      host: dest.host,
      ...(dest.servername ? { servername: dest.servername } : {}),
      port: dest.port,
      name: helo,
      ignoreTLS: dest.tls === 'none',
      requireTLS: dest.tls === 'required',
      opportunisticTLS: dest.tls === 'opportunistic',
      connectionTimeout: this.#connectTimeoutMs,
      greetingTimeout: this.#connectTimeoutMs,
      socketTimeout: 5 * 60_000,
      // Customer servers commonly have private or self-signed certificates: encrypt anyway.
      tls: { rejectUnauthorized: false },
      allowInternalNetworkInterfaces: true,
    });
    return new Promise((resolve, reject) => {
      conn.once('error', reject);
      conn.connect(() => {
        const done = (err: Error | null) => {
          conn.removeListener('error', reject);
          conn.on('error', () => conn.close()); // later socket errors surface through send()
          if (err) { conn.close(); reject(err); } else resolve(conn);
        };
        if (dest.auth) conn.login({ user: dest.auth.user, pass: dest.auth.pass }, (err) => done(err));
        else done(null);
      });
    });
  }

  #takeIdle(key: string): SMTPConnection | undefined {
    const list = this.#idle.get(key);
    while (list?.length) {
      const { conn, timer } = list.pop()!;
      clearTimeout(timer);
      if (!conn.destroyed) return conn;
    }
    return undefined;
  }

  #putIdle(key: string, conn: SMTPConnection): void {
    const list = this.#idle.get(key) ?? [];
    if (this.#closed || list.length >= MAX_IDLE_PER_DESTINATION) { conn.quit(); return; }
    const entry: Idle = {
      conn,
      timer: setTimeout(() => {
        const i = list.indexOf(entry);
        if (i >= 0) list.splice(i, 1);
        conn.quit();
      }, IDLE_MS),
    };
    entry.timer.unref();
    list.push(entry);
    this.#idle.set(key, list);
  }
}

function failureResult(err: NodemailerError, recipients: string[]): TransactionResult {
  if (err.responseCode) {
    // MAIL FROM, all RCPTs or DATA refused: the same answer applies to every recipient, except
    // that when all recipients were refused each has its own reply.
    const byRecipient = new Map((err.rejectedErrors ?? []).map((e) => [e.recipient ?? '', e]));
    return {
      kind: 'answered',
      replies: recipients.map((address) => {
        const e = byRecipient.get(address) ?? err;
        return { address, code: e.responseCode ?? err.responseCode!, reply: (e.response ?? e.message).trim() };
      }),
    };
  }
  return { kind: 'unreachable', reason: describe(err) };
}

function describe(err: NodemailerError): string {
  return `${err.code ?? 'ERROR'}: ${err.message}`;
}

function codeOf(response: string, fallback: number): number {
  const n = Number(response.slice(0, 3));
  return Number.isInteger(n) && n >= 200 ? n : fallback;
}
