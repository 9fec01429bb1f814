// A real SMTP server on loopback standing in for a customer's mail server (or the internet):
// it records every message it accepts, and can be told to answer RCPT or DATA with an error, or
// be stopped and restarted on the same port to play "downstream down".
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface SunkMessage {
  from: string;
  to: string[];
  raw: Buffer;
  at: number;
  /** The name the client gave in EHLO/HELO. */
  helo: string;
}

export interface SinkOptions {
  port?: number;
  /** Answer for RCPT TO of this address: a reply like "550 5.1.1 no such user". */
  rcptReply?: (address: string) => string | undefined;
  /** Keeps the client waiting at RCPT until the promise settles (an attempt held in flight). */
  holdRcpt?: (address: string) => Promise<void> | undefined;
  dataReply?: () => string | undefined;
}

export interface Sink {
  port: number;
  messages: SunkMessage[];
  options: SinkOptions;
  /** Resolves once `count` messages have arrived (or rejects after timeoutMs). */
  waitFor(count: number, timeoutMs?: number): Promise<SunkMessage[]>;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

function errorFrom(reply: string): Error {
  const code = Number(reply.slice(0, 3));
  return Object.assign(new Error(reply.slice(4)), { responseCode: code });
}

export async function startSink(options: SinkOptions = {}): Promise<Sink> {
  const messages: SunkMessage[] = [];
  const waiters: (() => void)[] = [];
  let server: SMTPServer | undefined;
  let port = options.port ?? 0;

  const start = async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      closeTimeout: 200,
      onRcptTo(address, _session, cb) {
        const answer = () => {
          const reply = options.rcptReply?.(address.address);
          cb(reply ? errorFrom(reply) : undefined);
        };
        const hold = options.holdRcpt?.(address.address);
        if (hold) void hold.then(answer, answer);
        else answer();
      },
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const reply = options.dataReply?.();
          if (reply) return cb(errorFrom(reply));
          messages.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks),
            at: Date.now(),
            helo: session.hostNameAppearsAs,
          });
          for (const w of waiters.splice(0)) w();
          cb();
        });
      },
    });
    // A client dying mid-transaction (the daemon killed in a test) is an 'error' event here.
    server.on('error', () => {});
    server.listen(port, '127.0.0.1');
    await once(server.server, 'listening');
    port = (server.server.address() as AddressInfo).port;
  };
  await start();

  return {
    get port() { return port; },
    messages,
    options,
    async waitFor(count, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`sink got ${messages.length} of ${count} expected messages`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(left, 500));
          waiters.push(() => { clearTimeout(t); resolve(); });
        });
      }
      return messages;
    },
    async stop() {
      if (!server) return;
      const s = server;
      server = undefined;
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async restart() {
      await start();
    },
  } as Sink;
}
