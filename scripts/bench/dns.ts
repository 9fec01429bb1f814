// The loopback DNS the daemon asks during a run (relay.resolver points here): the bench sender
// domains publish SPF (127.0.0.1 allowed), a DKIM key and a DMARC policy; every other name — the
// corpus's 2002 From domains, reverse lookups — answers NXDOMAIN, as unknown spam domains do.
// Served over UDP by the same dns2 server the integration tests use.
import { startDnsServer, type DnsServer, type Zone } from '../../test/helpers/dns-server.ts';
import { DKIM_SELECTOR, SENDER_DOMAINS } from './corpus.ts';

export function startBenchDns(dkimPublicKey: string): Promise<DnsServer> {
  const zone: Zone = {};
  for (const d of SENDER_DOMAINS) {
    zone[d] = { TXT: ['v=spf1 ip4:127.0.0.1 -all'], A: ['127.0.0.1'] };
    zone[`${DKIM_SELECTOR}._domainkey.${d}`] = { TXT: [`v=DKIM1; k=rsa; p=${dkimPublicKey}`] };
    zone[`_dmarc.${d}`] = { TXT: ['v=DMARC1; p=none'] };
  }
  return startDnsServer(zone);
}
