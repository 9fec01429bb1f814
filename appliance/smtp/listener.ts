// An SMTP listener and its session policy. The inbound listener (MX-facing, port 25) takes mail
// only for served domains and never relays; the submission listener (587) relays for permitted
// clients (relay.networks, or AUTH PLAIN/LOGIN after STARTTLS). At DATA the session hands the
// message to one call, `accept` (appliance/accept/: spool, filter, queue, log), and answers with
// its reply: 250 only once the message is durable. At each accepted RCPT the inbound listener also
// asks `screening` (DNS lists, HELO/reverse DNS, greylisting: screening.ts), whose findings about
// the client go with the message to the pipeline's score.
import { PausingSMTPServer } from './greeting-pause.ts';
import type { SMTPServer, SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { Accept, IncomingMessage, RefusedRecipient } from '../accept/accept.ts';
import type { Config, MailDirection } from '../config/schema.ts';
import type { TlsIdentity } from './tls.ts';
import type { AuthLimits } from './auth-limits.ts';
import type { ClientLimits } from './client-limits.ts';
import type { RecipientPolicy } from './recipient-policy.ts';
import { networkMatcher, relayLogin } from './relay-auth.ts';
import type { ReverseDns } from './reverse-dns.ts';
import type { Screening } from './screening.ts';
import { greetingDeadline, watchSlowData } from './slow-clients.ts';
import { mailDate } from '../message/mail-date.ts';

export type ListenerKind = 'inbound' | 'submission';

export interface ListenerDeps {
  kind: ListenerKind;
  config: () => Config;
  policy: () => RecipientPolicy;
  tls: TlsIdentity;
  limits: ClientLimits;
  /** SMTP AUTH brute-force limits, shared by the listeners (and kept across their restarts). */
  authLimits: AuthLimits;
  reverseDns: ReverseDns;
  /** Spools, filters and queues one message; answers with the SMTP reply to the final dot. */
  accept: Accept;
  /** Refuses new mail (e.g. the data disk is nearly full): a reason, or null to accept. */
  admission?: () => string | null;
  /** Told of every recipient refused at RCPT (the message log records those its settings ask for). */
  onRcptRefused?: (r: RefusedRecipient) => void;
  /** Told of every MAIL FROM refused for its announced size (552). */
  onOversize?: () => void;
  /** Recipient block list, asked at RCPT time. */
  recipientBlocked?: (direction: MailDirection, address: string, sender: string) => Promise<boolean>;
  /** Inbound connection-time screening at RCPT: DNS lists, HELO/reverse DNS, greylisting. */
  screening?: Screening;
}

interface Transaction {
  number: number;
  recipients: { address: string; original: string; domain: string }[];
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

export function createListener(deps: ListenerDeps): SMTPServer {
  const config = deps.config();
  const submission = deps.kind === 'submission';
  const transactions = new Map<string, Transaction>();
  const counted = new Map<string, NodeJS.Timeout>(); // admitted sessions → their greeting deadline
  const relayNetwork = networkMatcher(config.relay.networks);
  const trustedNetwork = networkMatcher(config.limits.trustedNetworks);
  const limits = config.limits;

  const transaction = (session: SMTPServerSession): Transaction => {
    let t = transactions.get(session.id);
    if (!t || t.number !== session.transaction) {
      t = { number: session.transaction, recipients: [] };
      transactions.set(session.id, t);
    }
    return t;
  };
  const mayRelay = (session: SMTPServerSession) => submission && (Boolean(session.user) || relayNetwork(session.remoteAddress));

  const server = new PausingSMTPServer({
    name: config.hostname,
    // smtp-server already writes "<name> ESMTP" before the banner.
    banner: 'Mailmoat',
    key: deps.tls.key,
    cert: deps.tls.cert,
    size: limits.maxMessageBytes,
    maxClients: limits.maxConnections,
    maxRecipients: limits.maxRecipients,
    socketTimeout: limits.idleTimeoutSeconds * 1000,
    closeTimeout: 30_000,
    // How long to wait before the greeting (early-talker check): greeting-pause.ts.
    greetingPauseMs: submission ? 0 : limits.greetingPauseMs,
    onSizeRefused: deps.onOversize,
    resolver: { reverse: deps.reverseDns.reverse },
    hideENHANCEDSTATUSCODES: true,
    hideDSN: true,
    // AUTH is offered only on submission and only over TLS (smtp-server refuses it in clear text).
    disabledCommands: submission ? [] : ['AUTH'],
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: true,
    logger: false,

    onConnect(session, callback) {
      const cfg = deps.config().limits;
      const trusted = relayNetwork(session.remoteAddress) || trustedNetwork(session.remoteAddress);
      const refusal = deps.limits.admit(session.remoteAddress, server.connections.size, cfg, trusted);
      if (refusal) return callback(smtpError(421, refusal));
      counted.set(session.id, greetingDeadline(server, session, cfg.greetingTimeoutSeconds));
      // AUTH is neither advertised nor accepted before STARTTLS (passwords never in clear text).
      if (submission) session.disabledCommands = ['AUTH'];
      callback();
    },

    onSecure(_socket, session, callback) {
      if (submission) session.disabledCommands = [];
      callback();
    },

    onClose(session) {
      // Refused connections were never counted: only counted ones give their place back.
      const deadline = counted.get(session.id);
      if (deadline) {
        counted.delete(session.id);
        clearTimeout(deadline);
        deps.limits.disconnect(session.remoteAddress);
      }
      transactions.delete(session.id);
      deps.screening?.forget(session.id);
    },

    onAuth(auth, session, callback) {
      const username = auth.username ?? '';
      const password = auth.method === 'XOAUTH2' ? null : auth.password;
      const login = async () => (password == null ? null : relayLogin(deps.config().relay.users, username, password));
      // A 421 answer makes smtp-server close the connection.
      deps.authLimits.attempt(session, session.remoteAddress, username, login).then(
        (r) => (r.ok ? callback(null, { user: r.user }) : callback(smtpError(r.code, r.message))),
        (err: Error) => callback(err),
      );
    },

    onMailFrom(address: SMTPServerAddress, session, callback) {
      const refusal = deps.admission?.();
      if (refusal) return callback(smtpError(452, `4.3.1 ${refusal}`));
      if (submission && !mayRelay(session)) {
        return callback(smtpError(530, '5.7.0 Authentication required: log in (after STARTTLS) or send from a permitted network'));
      }
      if (!deps.limits.message(session.remoteAddress, deps.config().limits.maxMessagesPerMinutePerClient)) {
        return callback(smtpError(451, '4.7.1 Too many messages from your address, slow down and try again later'));
      }
      if (address.args && typeof address.args === 'object' && 'SIZE' in address.args &&
          Number(address.args.SIZE) > deps.config().limits.maxMessageBytes) {
        return callback(smtpError(552, '5.3.4 Message too big for this system'));
      }
      callback();
    },

    onRcptTo(address, session, callback) {
      const original = address.address;
      const t = transaction(session);
      const accept = (r: { address: string; original: string; domain: string }) => {
        t.recipients.push(r);
        callback();
      };
      const direction = submission ? 'outbound' : 'inbound';
      const refuse = (reason: RefusedRecipient['reason'], code: number, message: string, found?: Pick<RefusedRecipient, 'mainClass' | 'findings'>) => {
        deps.onRcptRefused?.({ direction, client: clientOf(session), mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', address: original, reason, reply: { code, message }, ...found });
        callback(smtpError(code, message));
      };
      const check = async () => {
        const sender = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        if (deps.recipientBlocked && await deps.recipientBlocked(direction, original, sender)) {
          return refuse('blocked', 550, '5.7.1 Mail for this recipient is refused by policy');
        }
        if (mayRelay(session)) {
          const served = deps.policy().resolve(original);
          return accept(served ? { address: served.address, original, domain: served.domain.name } : { address: original, original, domain: '' });
        }
        const decision = await deps.policy().decide(original);
        switch (decision.kind) {
          case 'accept': {
            const r = { address: decision.recipient.address, original, domain: decision.recipient.domain.name };
            const screened = await deps.screening?.rcpt({
              sessionId: session.id, sender, recipient: r,
              client: { ip: session.remoteAddress, helo: session.hostNameAppearsAs || '', authenticated: Boolean(session.user) },
            });
            if (screened?.kind === 'refuse') return refuse(screened.reason, screened.code, screened.message, { mainClass: screened.mainClass, findings: screened.findings });
            return accept(r);
          }
          case 'not-served': return refuse('relay-denied', 550, '5.7.1 Relay access denied: we do not accept mail for that domain');
          case 'unknown-user': return refuse('unknown-user', 550, '5.1.1 Recipient address rejected: no such user here');
          case 'tempfail': return callback(smtpError(451, '4.4.3 Cannot verify the recipient right now, try again later'));
        }
      };
      check().catch((err: Error) => {
        console.error(`mailmoat: RCPT check failed: ${err.message}`);
        callback(smtpError(451, '4.3.0 Temporary local problem, try again later'));
      });
    },

    onData(stream: SMTPServerDataStream, session, callback) {
      const limitS = deps.config().limits.maxDataSeconds;
      let cutOff = false;
      const timer = setTimeout(() => {
        cutOff = true;
        const connection = [...server.connections].find((c) => c.session === session);
        connection?.send(421, `4.4.2 The message took longer than ${limitS} s to arrive; closing the connection`);
        connection?.close(); // ends the DATA stream: the spool removes the partial file
      }, limitS * 1000);
      // Only the arrival is timed: filtering after the final dot has its own timeouts (clamd, analysis).
      stream.once('end', () => clearTimeout(timer));
      receive(stream, session).finally(() => clearTimeout(timer)).then(
        (reply) => callback(null, reply),
        (err: Error & { responseCode?: number }) => {
          if (!err.responseCode && !cutOff) {
            // A client that hangs up mid-DATA is not our failure; anything else is worth a trace.
            if (!/Connection closed/.test(err.message)) console.error(`mailmoat: accepting a message failed: ${err.stack ?? err.message}`);
            err = smtpError(451, '4.3.0 Temporary local problem, the message was not accepted; try again later');
          }
          callback(err);
        },
      );
    },
  });

  watchSlowData(server, () => deps.config().limits);

  async function receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const t = transaction(session);
    const receivedAt = Date.now();
    const client = clientOf(session);
    const connection = await deps.screening?.findingsOf(session.id);
    const reply = await deps.accept({
      ...(connection ? { connection } : {}),
      data: stream, receivedAt, client, recipients: t.recipients,
      trace: receivedHeader(deps.config().hostname, client, Boolean(session.secure), t.recipients.length === 1 ? t.recipients[0].original : undefined, receivedAt),
      direction: submission ? 'outbound' : 'inbound',
      mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
    });
    if (reply.code >= 400) throw smtpError(reply.code, reply.message);
    return reply.message;
  }

  return server;
}

function clientOf(session: SMTPServerSession): IncomingMessage['client'] {
  return {
    ip: session.remoteAddress,
    hostname: session.clientHostname || `[${session.remoteAddress}]`,
    helo: session.hostNameAppearsAs || '',
    ...(session.user ? { authUser: String(session.user) } : {}),
    tls: Boolean(session.secure),
  };
}

function receivedHeader(hostname: string, client: { ip: string; hostname: string; helo: string; authUser?: string }, tls: boolean, forRecipient: string | undefined, at: number): string {
  const protocol = `ESMTP${tls ? 'S' : ''}${client.authUser ? 'A' : ''}`;
  const date = mailDate(at);
  const helo = client.helo.replace(/[^\x21-\x7e]/g, '') || 'unknown';
  return `Received: from ${helo} (${client.hostname} [${client.ip}])\r\n\tby ${hostname} (Mailmoat) with ${protocol}` +
    `${forRecipient ? `\r\n\tfor <${forRecipient}>` : ''}; ${date}\r\n`;
}
