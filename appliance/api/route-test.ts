// The "test" button next to a domain route: open a TCP connection to the customer's mail server,
// read its greeting, say EHLO and QUIT. Proves the route is reachable and speaks SMTP, without
// sending mail. Answers a result the admin can read, never throws; what went wrong is a text key
// and parameters (appliance/i18n/server-messages.ts), rendered in the caller's language by the route.
import net from 'node:net';
import type { Language } from '../i18n/catalog.ts';
import type { LocalText } from '../i18n/server-messages.ts';
import { render, type RenderedText } from './errors.ts';

export interface RouteTestResult {
  ok: boolean;
  /** The server's greeting line(s), when one came. */
  greeting?: string;
  /** What went wrong. */
  problem?: LocalText;
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
    socket.setTimeout(opts.timeoutMs ?? 10_000, () => finish({ ok: false, greeting, problem: { key: 'route-test.timeout', params: { seconds: Math.round((opts.timeoutMs ?? 10_000) / 1000) } } }));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const why: LocalText = err.code === 'ECONNREFUSED' ? { key: 'route-test.refused' }
        : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' ? { key: 'route-test.no-such-host' }
        : err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH' ? { key: 'route-test.unreachable' }
        : { key: 'route-test.failed', params: { detail: err.message } };
      finish({ ok: false, greeting, problem: why });
    });
    socket.on('close', () => finish(stage === 'quit' ? { ok: true, greeting } : { ok: false, greeting, problem: { key: 'route-test.closed' } }));
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
        if (code !== 220) return finish({ ok: false, greeting, problem: { key: 'route-test.session-refused', params: { reply } } });
        stage = 'ehlo';
        socket.write(`EHLO ${opts.heloName}\r\n`);
      } else if (stage === 'ehlo') {
        if (code !== 250) return finish({ ok: false, greeting, problem: { key: 'route-test.ehlo-refused', params: { reply } } });
        stage = 'quit';
        socket.write('QUIT\r\n');
      } else {
        finish({ ok: true, greeting });
      }
    });
  });
}

/** The result as the API answers it: what went wrong in the caller's language, with its key. */
export function routeTestAnswer(r: RouteTestResult, lang: Language): Omit<RouteTestResult, 'problem'> & { problem?: RenderedText } {
  const { problem, ...rest } = r;
  return problem ? { ...rest, problem: render(lang, problem) } : rest;
}
