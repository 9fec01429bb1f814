// Stage 2, authenticate: SPF (client IP and envelope sender), DKIM, DMARC and ARC through mailauth,
// with the (cached, injectable) resolver. The stage only finds; what an SPF "NG" result or a DMARC
// failure does to the message is decided by the verdict from the configuration.
//
// Only inbound mail is authenticated: outbound mail comes from our own users over submission,
// where SPF of the client would say nothing useful.
import { authenticate } from 'mailauth';
import type { AuthFindings, StageContext } from './message-context.ts';
import type { Resolver } from '../dns/cache.ts';

export interface AuthOptions {
  resolver: Resolver;
  /** Our host name: the authserv-id of Authentication-Results. */
  hostname: string;
  /** SPF results that count as NG. */
  spfNg: readonly string[];
}

export async function authStage(sc: StageContext, opts: AuthOptions): Promise<void> {
  const { msg } = sc;
  try {
    const res = await authenticate(sc.raw, {
      ip: msg.client.ip,
      helo: msg.client.helo,
      sender: msg.mailFrom,
      mta: opts.hostname,
      resolver: opts.resolver as (name: string, rrtype: string) => Promise<string[][] | string[]>,
      disableBimi: true,
    });
    const spfResult = res.spf ? res.spf.status.result : 'none';
    // DMARC "fails" when neither SPF nor DKIM passed aligned — also when they could not be checked
    // because DNS did not answer. That is no evidence against the sender: it is reported as
    // temperror (RFC 7489 section 6.6.2), so neither the verdict nor the score holds mail for it.
    const dnsTrouble = spfResult === 'temperror' || (res.dkim.results ?? []).some((r) => r.status.result === 'temperror');
    const dmarcResult = res.dmarc && (dnsTrouble && res.dmarc.status.result === 'fail' ? 'temperror' : res.dmarc.status.result);
    const dmarc = res.dmarc
      ? { result: dmarcResult || 'none', policy: res.dmarc.policy ?? 'none', domain: res.dmarc.domain ?? '' }
      : null;
    sc.findings.auth = {
      spf: { result: spfResult, domain: res.spf ? res.spf.domain : '', ng: opts.spfNg.includes(spfResult) },
      dkim: (res.dkim.results ?? []).map((r) => ({
        result: r.status.result,
        domain: r.signingDomain ?? '',
        selector: r.selector ?? '',
        aligned: Boolean(r.status.aligned),
      })),
      dmarc,
      arc: { result: res.arc ? res.arc.status.result : 'none' },
      fromDomain: (res.dmarc && res.dmarc.status.header?.from) || domainOf(sc.findings.parse?.fromAddress ?? ''),
      headers: splitHeaders(res.headers),
    };
  } catch (err) {
    // mailauth turns DNS trouble into temperror results itself; an exception here is a bug or a
    // message it cannot read. Record it and let the message through the other stages.
    sc.findings.auth = unknownAuth(sc, `authentication checks failed: ${(err as Error).message}`);
  }
}

function unknownAuth(sc: StageContext, error: string): AuthFindings {
  return {
    spf: { result: 'none', domain: '', ng: false }, dkim: [], dmarc: null, arc: { result: 'none' },
    fromDomain: domainOf(sc.findings.parse?.fromAddress ?? ''), headers: [], error,
  };
}

function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at >= 0 ? address.slice(at + 1).toLowerCase() : '';
}

/** "Name: value\r\n folded\r\nName2: v" → [[Name, "value\r\n folded"], [Name2, "v"]]. */
export function splitHeaders(block: string): [string, string][] {
  return block.split(/\r?\n(?![ \t])/).filter((l) => l.trim()).map((line) => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon).trim(), line.slice(colon + 1).trim()] as [string, string];
  });
}
