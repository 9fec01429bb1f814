// Recipient callout: ask the domain's own server whether a mailbox exists (EHLO, MAIL FROM:<>,
// RCPT TO) without sending anything, and cache the answer. A 5xx to RCPT means unknown; a
// connection failure or 4xx means "try later" (451), never "accept blindly".
import net from 'node:net';
import type { Domain } from '../config/schema.ts';
import type { Store, Sublevel } from '../store/store.ts';

export type CalloutAnswer = { kind: 'valid' } | { kind: 'unknown'; reply: string } | { kind: 'tempfail'; reason: string };

interface CachedAnswer { valid: boolean; reply: string; at: number }

export class CalloutVerifier {
  #cache: Sublevel<CachedAnswer>;
  #heloName: string;
  #timeoutMs: number;

  constructor(store: Store, heloName: string, timeoutMs = 15_000) {
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
      const result = await this.#ask(route.host, route.port, address).catch((err: Error) => ({ code: 0, text: err.message }));
      if (result.code >= 200 && result.code < 300 || result.code >= 500) {
        const valid = result.code < 300;
        await this.#cache.put(key, { valid, reply: result.text, at: Date.now() });
        return valid ? { kind: 'valid' } : { kind: 'unknown', reply: result.text };
      }
      lastProblem = `${route.host}:${route.port} ${result.code ? `answered ${result.code} ${result.text}` : result.text}`;
    }
    return { kind: 'tempfail', reason: lastProblem };
  }

  /** One SMTP dialogue up to RCPT; resolves with RCPT's reply (or the first failing reply). */
  #ask(host: string, port: number, address: string): Promise<{ code: number; text: string }> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const steps = [`EHLO ${this.#heloName}`, 'MAIL FROM:<>', `RCPT TO:<${address}>`];
      let buffer = '';
      let step = -1;
      const finish = (result: { code: number; text: string } | Error) => {
        socket.removeAllListeners('data');
        socket.end('QUIT\r\n');
        socket.destroySoon();
        result instanceof Error ? reject(result) : resolve(result);
      };
      socket.setTimeout(this.#timeoutMs, () => { socket.destroy(); reject(new Error(`timed out talking to ${host}:${port}`)); });
      socket.on('error', (err) => reject(new Error(`cannot reach ${host}:${port}: ${err.message}`)));
      socket.on('data', (chunk) => {
        buffer += chunk.toString('latin1');
        // A reply is complete at a line "NNN text" (no dash after the code).
        const m = /(?:^|\r?\n)(\d{3}) ([^\r\n]*)\r?\n$/.exec(buffer);
        if (!m) return;
        const code = Number(m[1]);
        buffer = '';
        if (step === steps.length - 1) return finish({ code, text: `${m[1]} ${m[2]}` });
        // Refused before RCPT: says nothing about the mailbox, so it is a temporary problem.
        if (code >= 400) return finish({ code: 0, text: `${host}:${port} refused ${step < 0 ? 'the connection' : steps[step].split(' ')[0]}: ${m[1]} ${m[2]}` });
        step += 1;
        socket.write(`${steps[step]}\r\n`);
      });
    });
  }
}
