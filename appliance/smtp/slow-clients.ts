// Clients that hold a connection slot without using it: one that never says EHLO/HELO after the
// greeting (limits.greetingTimeoutSeconds), and one that trickles its message below
// limits.minDataBytesPerSecond, which never looks idle and would otherwise keep its slot for the
// whole limits.maxDataSeconds. Both are answered 421 and disconnected (smtp-server closes the
// connection after a 421; an interrupted DATA stream makes the spool drop the partial file).
import type { SMTPServer, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';

interface Connection {
  session: SMTPServerSession;
  send(code: number, text: string): void;
}

const connectionOf = (server: SMTPServer, session: SMTPServerSession) =>
  ([...server.connections] as unknown as Connection[]).find((c) => c.session === session);

/** Disconnects the session's client unless it has sent EHLO or HELO within `seconds`. */
export function greetingDeadline(server: SMTPServer, session: SMTPServerSession, seconds: number): NodeJS.Timeout {
  const timer = setTimeout(() => {
    if (session.hostNameAppearsAs) return;
    connectionOf(server, session)?.send(421, `4.4.2 No EHLO or HELO from you in ${seconds} s, closing the connection`);
  }, seconds * 1000);
  return timer.unref();
}

export interface SlowDataSettings {
  minDataBytesPerSecond: number;
  slowDataSeconds: number;
}

/** True when `bytes` received over `seconds` are below the minimum average rate. */
export function tooSlow(bytes: number, seconds: number, minBytesPerSecond: number): boolean {
  return minBytesPerSecond > 0 && bytes < seconds * minBytesPerSecond;
}

/**
 * Watches every message's arrival rate on `server`: every `slowDataSeconds` after DATA began, a
 * message whose average rate so far is below the minimum is cut off. Wraps the server's onData
 * handler, so the mail path itself needs to know nothing about it.
 */
export function watchSlowData(server: SMTPServer, settings: () => SlowDataSettings): void {
  const handler = server.onData.bind(server);
  server.onData = (stream: SMTPServerDataStream, session, callback) => {
    const { minDataBytesPerSecond, slowDataSeconds } = settings();
    if (minDataBytesPerSecond > 0) {
      const started = Date.now();
      const timer = setInterval(() => {
        const seconds = (Date.now() - started) / 1000;
        // byteLength is kept current by smtp-server while the message arrives.
        if (!tooSlow(stream.byteLength, seconds, minDataBytesPerSecond)) return;
        clearInterval(timer);
        connectionOf(server, session)?.send(421,
          `4.4.2 The message arrives too slowly (${Math.round(stream.byteLength / seconds)} bytes/s, at least ${minDataBytesPerSecond} needed); closing the connection`);
      }, slowDataSeconds * 1000);
      timer.unref();
      stream.once('end', () => clearInterval(timer));
      stream.once('close', () => clearInterval(timer));
    }
    handler(stream, session, callback);
  };
}
