// The DNS records page: for every domain the caller administers, the records to publish (MX to
// the appliance, its name's A/AAAA and SPF, the SPF include) and whether each is published as
// expected, asked afresh (no cache: the admin has just changed their zone) of the configured
// resolver (relay.resolver, else the system's). Addresses the internet cannot reach are named,
// so the admin publishes the public address that forwards to the box instead.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { systemResolver } from '../../dns/cache.ts';
import { checkRecords, dnsRecords, isPrivateAddress, outboundAddresses } from '../dns-records.ts';
import { canReach } from '../roles.ts';
import type { ConsoleContext } from '../route-context.ts';

export default async function dnsRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/api/dns-records', { config: { access: { roles: ['admin', 'domain-admin'] } } }, async (req) => {
    const c = ctx.config.current;
    const addresses = (ctx.addresses ?? outboundAddresses)();
    const resolve = systemResolver(c.relay.resolver);
    const domains = c.domains.filter((d) => canReach(req.principal!, { domain: d.name }));
    return {
      hostname: c.hostname,
      resolver: c.relay.resolver,
      addresses,
      privateAddresses: addresses.filter(isPrivateAddress),
      domains: await Promise.all(domains.map(async (d) => ({ name: d.name, records: await checkRecords(dnsRecords(d.name, c.hostname, addresses), resolve) }))),
    };
  });
}
