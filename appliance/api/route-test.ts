// The "test" button next to a domain route: open a TCP connection to the customer's mail server,
// read its greeting, say EHLO and QUIT. Proves the route is reachable and speaks SMTP, without
// sending mail. Answers a result the admin can read, never throws.
import net from 'node:net';

export interface RouteTestResult {
  ok: boolean;
  /** The server's greeting line(s), when one came. */
  greeting?: string;
  /** What went wrong, in words for the admin. */
  error?: string;
  milliseconds: number;
}

export function testSmtpRoute(host: string, port: number, opts: { heloName: string; timeoutMs?: number }): Promise<RouteTestResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let buffer = '';
    let greeting: string | undefined;
    let stage: 'greeting' | 'ehlo' | 'quit' = 'greeting';
    const finish = (result: Omit<RouteTestResult, 'milliseconds'>) => {
      socket.destroy();
      resolve({ ...result, milliseconds: Date.now() - started });
    };
    socket.setTimeout(opts.timeoutMs ?? 10_000, () => finish({ ok: false, greeting, error: `no answer within ${Math.round((opts.timeoutMs ?? 10_000) / 1000)} s` }));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ECONNREFUSED' ? 'connection refused (nothing listens on that port)'
        : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' ? 'the host name does not resolve'
        : err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH' ? 'the host is unreachable'
        : err.message;
      finish({ ok: false, greeting, error: why });
    });
    socket.on('close', () => finish(stage === 'quit' ? { ok: true, greeting } : { ok: false, greeting, error: 'the server closed the connection' }));
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      // A reply is complete when a line has a space (not a dash) after its code.
      const lines = buffer.split('\r\n');
      const last = lines.findIndex((l) => /^\d{3} /.test(l));
      if (last < 0) return;
      const reply = lines.slice(0, last + 1).join('\n');
      buffer = lines.slice(last + 1).join('\r\n');
      const code = Number(reply.slice(0, 3));
      if (stage === 'greeting') {
        greeting = reply;
        if (code !== 220) return finish({ ok: false, greeting, error: `the server refused the session: ${reply}` });
        stage = 'ehlo';
        socket.write(`EHLO ${opts.heloName}\r\n`);
      } else if (stage === 'ehlo') {
        if (code !== 250) return finish({ ok: false, greeting, error: `EHLO was refused: ${reply}` });
        stage = 'quit';
        socket.write('QUIT\r\n');
      } else {
        finish({ ok: true, greeting });
      }
    });
  });
}
