// Recipient callout: ask the domain's own server whether a mailbox exists (EHLO, MAIL FROM:<>,
// RCPT TO) without sending anything, and cache the answer. A 5xx to RCPT means unknown; a
// connection failure or 4xx means "try later" (451), never "accept blindly". The dialogue is the
// one SMTP probe's (delivery/smtp-probe.ts).
import type { Domain } from '../config/schema.ts';
import { probeSmtp } from '../delivery/smtp-probe.ts';
import type { Store, Sublevel } from '../store/store.ts';

export type CalloutAnswer = { kind: 'valid' } | { kind: 'unknown'; reply: string } | { kind: 'tempfail'; reason: string };

interface CachedAnswer { valid: boolean; reply: string; at: number }

export class CalloutVerifier {
  #cache: Sublevel<CachedAnswer>;
  #heloName: () => string;
  #timeoutMs: number;

  /** `heloName` is asked at every callout (the host name may change while the daemon runs). */
  constructor(store: Store, heloName: () => string, timeoutMs = 15_000) {
    this.#cache = store.sublevel<CachedAnswer>('callout');
    this.#heloName = heloName;
    this.#timeoutMs = timeoutMs;
  }

  async verify(address: string, domain: Domain): Promise<CalloutAnswer> {
    const key = address.toLowerCase();
    const cached = await this.#cache.get(key);
    if (cached && Date.now() - cached.at < domain.recipients.calloutCacheSeconds * 1000) {
      return cached.valid ? { kind: 'valid' } : { kind: 'unknown', reply: cached.reply };
    }
    const routes = [...domain.routes].sort((a, b) => a.priority - b.priority);
    let lastProblem = 'no route';
    for (const route of routes) {
      const result = await this.#ask(route.host, route.port, address);
      if (result.code >= 200 && result.code < 300 || result.code >= 500) {
        const valid = result.code < 300;
        await this.#cache.put(key, { valid, reply: result.text, at: Date.now() });
        return valid ? { kind: 'valid' } : { kind: 'unknown', reply: result.text };
      }
      lastProblem = `${route.host}:${route.port} ${result.code ? `answered ${result.code} ${result.text}` : result.text}`;
    }
    return { kind: 'tempfail', reason: lastProblem };
  }

  /** One SMTP dialogue up to RCPT; RCPT's reply, or code 0 and why the mailbox question was not answered. */
  async #ask(host: string, port: number, address: string): Promise<{ code: number; text: string }> {
    const steps = [`EHLO ${this.#heloName()}`, 'MAIL FROM:<>', `RCPT TO:<${address}>`];
    const outcome = await probeSmtp(host, port, steps, { timeoutMs: this.#timeoutMs });
    if (!outcome.ok) {
      const f = outcome.failure;
      return { code: 0, text: f.kind === 'timeout' ? `timed out talking to ${host}:${port}`
        : f.kind === 'closed' ? `${host}:${port} closed the connection`
        : `cannot reach ${host}:${port}: ${f.error.message}` };
    }
    const { greeting, replies } = outcome;
    const last = replies.at(-1) ?? greeting;
    const text = last.lines.at(-1)!;
    if (replies.length === steps.length) return { code: last.code, text };
    // Refused before RCPT: says nothing about the mailbox, so it is a temporary problem.
    return { code: 0, text: `${host}:${port} refused ${replies.length === 0 ? 'the connection' : steps[replies.length - 1].split(' ')[0]}: ${text}` };
  }
}
