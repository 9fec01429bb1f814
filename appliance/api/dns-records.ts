// The DNS records a customer must publish for a served domain once the appliance filters it:
// MX pointing at the appliance, the appliance's own name and SPF record listing its outbound
// addresses, and an SPF include for the customer's domain (to merge into any SPF they have).
import net from 'node:net';
import os from 'node:os';

export interface DnsRecord {
  name: string;
  type: 'MX' | 'A' | 'AAAA' | 'TXT';
  value: string;
  note: string;
}

/** The box's own addresses as others would see them: every non-internal, non-link-local one. */
export function outboundAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal || (a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80'))) continue;
      out.push(a.address);
    }
  }
  return out;
}

export function dnsRecords(domain: string, hostname: string, addresses: string[]): DnsRecord[] {
  const fqdn = (n: string) => (n.endsWith('.') ? n : n + '.');
  const spf = ['v=spf1', ...addresses.map((a) => (net.isIPv6(a) ? `ip6:${a}` : `ip4:${a}`)), '-all'].join(' ');
  return [
    { name: fqdn(domain), type: 'MX', value: `10 ${fqdn(hostname)}`, note: 'mx' },
    ...addresses.map((a): DnsRecord => ({ name: fqdn(hostname), type: net.isIPv6(a) ? 'AAAA' : 'A', value: a, note: 'address' })),
    { name: fqdn(hostname), type: 'TXT', value: spf, note: 'spf-host' },
    { name: fqdn(domain), type: 'TXT', value: `v=spf1 include:${hostname} ~all`, note: 'spf-include' },
  ];
}
