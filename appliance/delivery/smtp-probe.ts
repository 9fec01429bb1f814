// A short SMTP dialogue with a mail server that sends no mail: the recipient callout (EHLO, MAIL
// FROM:<>, RCPT TO — does the mailbox exist?) and the console's route check (greeting and EHLO —
// is the route reachable and speaking SMTP?) both ask through this one probe. Delivery proper is
// nodemailer's (smtp-client.ts), which has no way to stop after RCPT.
//
// The probe reads the greeting, then sends the commands one at a time while the replies are
// positive (2xx/3xx); it stops at the first refusal, says QUIT and hangs up. What happened is a
// value, never a throw: the replies it got, or why the dialogue broke off (and the greeting, if
// one came). An idle timeout bounds every wait.
import net from 'node:net';

export interface SmtpReply {
  code: number;
  /** The reply's lines as received ("250-first", "250 last"). */
  lines: string[];
}

export type ProbeFailure =
  | { kind: 'timeout'; seconds: number }
  /** The server closed the connection before the dialogue ended. */
  | { kind: 'closed' }
  /** The connection failed: refused, no such host, unreachable (node's error, with its code). */
  | { kind: 'error'; error: NodeJS.ErrnoException };

export type ProbeOutcome =
  /** `replies` answer the commands in order; fewer than the commands when one was refused. */
  | { ok: true; greeting: SmtpReply; replies: SmtpReply[] }
  | { ok: false; greeting?: SmtpReply; failure: ProbeFailure };

export function probeSmtp(host: string, port: number, commands: string[], opts: { timeoutMs: number }): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let buffer = '';
    let greeting: SmtpReply | undefined;
    const replies: SmtpReply[] = [];
    let settled = false;
    const finish = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      socket.removeAllListeners('data');
      if (outcome.ok && !socket.destroyed) {
        socket.on('error', () => {}); // a server that hangs up on QUIT is no news
        socket.end('QUIT\r\n');
        socket.setTimeout(opts.timeoutMs, () => socket.destroy());
      } else {
        socket.destroy();
      }
      resolve(outcome);
    };
    socket.setTimeout(opts.timeoutMs, () => finish({ ok: false, greeting, failure: { kind: 'timeout', seconds: Math.round(opts.timeoutMs / 1000) } }));
    socket.on('error', (error: NodeJS.ErrnoException) => finish({ ok: false, greeting, failure: { kind: 'error', error } }));
    socket.on('close', () => finish({ ok: false, greeting, failure: { kind: 'closed' } }));
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      for (;;) {
        // A reply is complete at a line with a space (not a dash) after its code.
        const lines = buffer.split(/\r?\n/);
        const last = lines.findIndex((l, i) => i < lines.length - 1 && /^\d{3}(?: |$)/.test(l));
        if (last < 0) return;
        const reply: SmtpReply = { code: Number(lines[last].slice(0, 3)), lines: lines.slice(0, last + 1) };
        buffer = lines.slice(last + 1).join('\r\n');
        if (!greeting) greeting = reply;
        else replies.push(reply);
        if (reply.code >= 400 || replies.length === commands.length) return finish({ ok: true, greeting, replies });
        socket.write(`${commands[replies.length]}\r\n`);
      }
    });
  });
}
