// The check next to a domain route ("test" in the console): is the customer's mail server
// reachable, and does it speak SMTP? The SMTP probe (delivery/smtp-probe.ts) reads its greeting
// and says EHLO and QUIT, without sending mail. Answers a result the admin can read, never throws;
// what went wrong is a text key and parameters (appliance/i18n/errors.ts), rendered in the
// caller's language by the route.
import type { Language } from '../i18n/catalog.ts';
import type { LocalText } from '../i18n/server-messages.ts';
import { probeSmtp, type ProbeFailure } from '../delivery/smtp-probe.ts';
import { render, type RenderedText } from './errors.ts';

export interface RouteCheck {
  ok: boolean;
  /** The server's greeting line(s), when one came. */
  greeting?: string;
  /** What went wrong. */
  problem?: LocalText;
  milliseconds: number;
}

function failureText(f: ProbeFailure): LocalText {
  if (f.kind === 'timeout') return { key: 'route-test.timeout', params: { seconds: f.seconds } };
  if (f.kind === 'closed') return { key: 'route-test.closed' };
  const code = f.error.code;
  return code === 'ECONNREFUSED' ? { key: 'route-test.refused' }
    : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? { key: 'route-test.no-such-host' }
    : code === 'EHOSTUNREACH' || code === 'ENETUNREACH' ? { key: 'route-test.unreachable' }
    : { key: 'route-test.failed', params: { detail: f.error.message } };
}

export async function checkRoute(host: string, port: number, opts: { heloName: string; timeoutMs?: number }): Promise<RouteCheck> {
  const started = Date.now();
  const outcome = await probeSmtp(host, port, [`EHLO ${opts.heloName}`], { timeoutMs: opts.timeoutMs ?? 10_000 });
  const milliseconds = Date.now() - started;
  const greeting = outcome.greeting?.lines.join('\n');
  if (!outcome.ok) return { ok: false, greeting, problem: failureText(outcome.failure), milliseconds };
  const reply = (lines: string[]) => lines.join('\n');
  if (outcome.greeting.code !== 220) return { ok: false, greeting, problem: { key: 'route-test.session-refused', params: { reply: reply(outcome.greeting.lines) } }, milliseconds };
  const ehlo = outcome.replies[0];
  if (ehlo.code !== 250) return { ok: false, greeting, problem: { key: 'route-test.ehlo-refused', params: { reply: reply(ehlo.lines) } }, milliseconds };
  return { ok: true, greeting, milliseconds };
}

/** The result as the API answers it: what went wrong in the caller's language, with its key. */
export function routeCheckAnswer(r: RouteCheck, lang: Language): Omit<RouteCheck, 'problem'> & { problem?: RenderedText } {
  const { problem, ...rest } = r;
  return problem ? { ...rest, problem: render(lang, problem) } : rest;
}
