// Connection-time screening on the inbound listener, at each RCPT the recipient policy accepted,
// before any data is sent:
//   1. once per session (and per HELO name): the DNS lists (dns-lists.ts) and the HELO/reverse-DNS
//      checks (client-checks.ts), in parallel. A client whose DNS-list listings add up to
//      `filtering.dnsLists.rejectScore` is refused (554 5.7.1, class Blacklisted); otherwise every
//      finding is a named reason in spam-score points that the session hands over with the message
//      (MessageContext.connection), and the pipeline adds them to its score (pipeline/connection.ts).
//   2. greylisting (greylist.ts), where the recipient's policy has it on: 451 4.7.1 (class Greylist)
//      until the triplet's retry. Not greylisted: clients on a DNS allowlist, senders the
//      recipient's lists allow, and — if the admin asks — senders whose SPF passes for the client.
// Clients in relay.networks or limits.trustedNetworks, and authenticated ones, are not screened.
import { spf } from 'mailauth';
import type { Config } from '../config/schema.ts';
import type { Resolver } from '../dns/cache.ts';
import type { MainClass, Reason } from '../message/message.ts';
import type { ConnectionFindings } from '../pipeline/message-context.ts';
import { effectiveFiltering } from '../policy/policy.ts';
import { checkClient } from './client-checks.ts';
import { checkDnsLists, type DnsListResult } from './dns-lists.ts';
import type { Greylist } from './greylist.ts';
import { networkMatcher } from './relay-auth.ts';

export interface ScreeningDeps {
  config: () => Config;
  /** The appliance's one DNS cache. */
  resolve: Resolver;
  greylist: Greylist;
  /** Whether the recipient's lists allow the sender (then it is not greylisted). */
  senderAllowed: (recipient: string, recipientDomain: string, sender: string) => Promise<boolean>;
}

export interface ScreenRequest {
  sessionId: string;
  client: { ip: string; helo: string; authenticated: boolean };
  /** '' is the null sender. */
  sender: string;
  /** After aliases; `domain` is the served domain's name. */
  recipient: { address: string; domain: string };
}

export type ScreenAnswer =
  | { kind: 'ok' }
  | { kind: 'refuse'; reason: 'greylisted' | 'dns-list'; code: number; message: string; mainClass: MainClass; findings: ConnectionFindings };

interface SessionChecks { dns: DnsListResult; findings: ConnectionFindings }

export class Screening {
  #deps: ScreeningDeps;
  #sessions = new Map<string, { helo: string; checks: Promise<SessionChecks>; spf: Map<string, Promise<boolean>> }>();
  #trusted = new WeakMap<Config, (ip: string) => boolean>();

  constructor(deps: ScreeningDeps) {
    this.#deps = deps;
  }

  async rcpt(req: ScreenRequest): Promise<ScreenAnswer> {
    const cfg = this.#deps.config();
    if (req.client.authenticated || this.#isTrusted(cfg, req.client.ip)) return { kind: 'ok' };
    const session = this.#session(req, cfg);
    const { dns, findings } = await session.checks;
    const rejectScore = cfg.filtering.dnsLists.rejectScore;
    if (rejectScore > 0 && dns.score >= rejectScore) {
      return {
        kind: 'refuse', reason: 'dns-list', code: 554, mainClass: 'Blacklisted', findings,
        message: `5.7.1 Service unavailable: client [${req.client.ip}] is listed by ${dns.hits.filter((h) => h.weight > 0).map((h) => h.zone).join(', ')}`,
      };
    }
    const greylisting = effectiveFiltering(cfg, req.recipient).greylisting;
    if (!greylisting.enabled) return { kind: 'ok' };
    if (dns.hits.some((h) => h.weight < 0)) return { kind: 'ok' };
    if (await this.#deps.senderAllowed(req.recipient.address, req.recipient.domain, req.sender)) return { kind: 'ok' };
    if (greylisting.skipSpfPass && req.sender && await this.#spfPasses(session.spf, req)) return { kind: 'ok' };
    const answer = await this.#deps.greylist.check({ clientIp: req.client.ip, sender: req.sender, recipient: req.recipient.address }, greylisting);
    if (answer.kind === 'pass') return { kind: 'ok' };
    return {
      kind: 'refuse', reason: 'greylisted', code: 451, mainClass: 'Greylist', findings,
      message: `4.7.1 Greylisted: please try again in ${answer.retryInSeconds} seconds`,
    };
  }

  /** The session's findings for the message it is sending, when its client was screened. */
  async findingsOf(sessionId: string): Promise<ConnectionFindings | undefined> {
    return this.#sessions.get(sessionId)?.checks.then((c) => c.findings, () => undefined);
  }

  /** The session ended. */
  forget(sessionId: string): void {
    this.#sessions.delete(sessionId);
  }

  #isTrusted(cfg: Config, ip: string): boolean {
    let match = this.#trusted.get(cfg);
    if (!match) {
      match = networkMatcher([...cfg.relay.networks, ...cfg.limits.trustedNetworks]);
      this.#trusted.set(cfg, match);
    }
    return match(ip);
  }

  #session(req: ScreenRequest, cfg: Config) {
    const known = this.#sessions.get(req.sessionId);
    if (known && known.helo === req.client.helo) return known;
    const entry = { helo: req.client.helo, checks: this.#checks(req.client.ip, req.client.helo, cfg), spf: new Map<string, Promise<boolean>>() };
    entry.checks.catch(() => {});
    this.#sessions.set(req.sessionId, entry);
    return entry;
  }

  async #checks(ip: string, helo: string, cfg: Config): Promise<SessionChecks> {
    const lists = cfg.filtering.dnsLists;
    const checks = cfg.filtering.clientChecks;
    const ourNames = [cfg.hostname, ...cfg.domains.flatMap((d) => [d.name, ...d.aliases])];
    const [dns, client] = await Promise.all([
      checkDnsLists(ip, lists, this.#deps.resolve),
      checks.enabled ? checkClient({ ip, helo }, checks, { resolve: this.#deps.resolve, ourNames, timeoutMs: lists.timeoutMs }) : Promise.resolve([]),
    ]);
    const reasons: Reason[] = [
      ...dns.hits.map((h) => ({ name: `${h.weight < 0 ? 'DNSWL' : 'DNSBL'}:${h.zone}`, contribution: h.weight, detail: `${ip} listed (${h.answers.join(', ')})` })),
      ...client,
    ];
    return { dns, findings: { reasons, unanswered: dns.unanswered } };
  }

  #spfPasses(memo: Map<string, Promise<boolean>>, req: ScreenRequest): Promise<boolean> {
    const key = req.sender.toLowerCase();
    let p = memo.get(key);
    if (!p) {
      const cfg = this.#deps.config();
      p = spf({ ip: req.client.ip, helo: req.client.helo, sender: req.sender, mta: cfg.hostname, resolver: this.#deps.resolve as (name: string, rrtype: string) => Promise<string[][] | string[]> })
        .then((r) => r.status.result === 'pass', () => false);
      memo.set(key, p);
    }
    return p;
  }
}
