// The load generator: N concurrent SMTP sessions on plain sockets (no library between us and the
// timing points), one message per session like inbound MX traffic — EHLO, MAIL, RCPT (one
// recipient), DATA, body, ".", QUIT — until `count` messages were sent. Each message gets an
// "X-Bench-Seq: n" first header so the sink can tell which one arrived. End-of-DATA latency is the
// time from writing the final ".\r\n" to reading the reply: for a before-queue filter it contains
// the whole scan.
import net from 'node:net';
import type { WireMessage } from './corpus.ts';

export interface SendResult { seq: number; code: number; text: string; eodMs: number; eodAt: number; spam: boolean }

const now = () => performance.timeOrigin + performance.now();
const EXPECT = [220, 250, 250, 250, 354, 250, 221];

function sendOne(port: number, m: WireMessage, seq: number, rcptDomain: string): Promise<SendResult> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.setNoDelay(true);
    let step = 0;
    let buf = '';
    let eodAt = 0;
    let result: SendResult | undefined;
    const finish = (code: number, text: string) => {
      if (!result) result = { seq, code, text, eodMs: eodAt ? now() - eodAt : NaN, eodAt, spam: m.spam };
      s.destroy();
      resolve(result);
    };
    const next = [
      () => s.write('EHLO loadgen.bench.test\r\n'),
      () => s.write(`MAIL FROM:<sender${seq % 97}@${m.mutated ? `s${seq}.mutant.bench.test` : m.senderDomain}>\r\n`),
      () => s.write(`RCPT TO:<user${seq % 13}@${rcptDomain}>\r\n`),
      () => s.write('DATA\r\n'),
      () => { s.write(`X-Bench-Seq: ${seq}\r\n`); s.write(m.body); eodAt = now(); s.write('.\r\n'); },
      () => s.write('QUIT\r\n'),
    ];
    s.setTimeout(300_000, () => finish(-1, 'timeout'));
    s.on('error', (e) => finish(-2, e.message));
    s.on('close', () => finish(-3, `closed at step ${step}`));
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let nl: number;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        if (/^\d{3}-/.test(line)) continue;
        const code = Number(line.slice(0, 3));
        if (step === 5) {
          // the reply that matters: after it, the outcome is fixed whatever QUIT does
          result = { seq, code, text: line, eodMs: now() - eodAt, eodAt, spam: m.spam };
          if (code !== 250 && code < 500) return finish(code, line);
        } else if (step === 6) {
          return finish(code, line);
        } else if (code !== EXPECT[step]) {
          return finish(code, line);
        }
        next[step]();
        step++;
      }
    });
  });
}

/** Sends messages seq = first … first+count-1 (message seq mod corpus size) over `concurrency` sessions. */
/**
 * `onDone(n)` is called after each reply with the number of messages finished so far (the soak's
 * snapshots); past `until` (epoch ms) no new message is started, so a soak can be bounded in time.
 */
export async function runLoad(opts: { port: number; concurrency: number; first: number; count: number; messages: WireMessage[]; rcptDomain: string; onDone?: (done: number) => void; until?: number }): Promise<SendResult[]> {
  const out: SendResult[] = [];
  let i = 0;
  const worker = async () => {
    while (i < opts.count && !(opts.until && Date.now() >= opts.until)) {
      const seq = opts.first + i++;
      out.push(await sendOne(opts.port, opts.messages[seq % opts.messages.length], seq, opts.rcptDomain));
      opts.onDone?.(out.length);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return out;
}

/** Nearest-rank percentile. */
export function pct(values: number[], p: number): number {
  if (!values.length) return NaN;
  const a = [...values].sort((x, y) => x - y);
  return a[Math.min(a.length - 1, Math.max(0, Math.ceil((p / 100) * a.length) - 1))];
}
