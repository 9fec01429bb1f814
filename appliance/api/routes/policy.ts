// Per-domain and per-mailbox filtering policy (appliance/policy/): what a domain or a mailbox sets
// itself, and every effective value with the level it comes from (appliance, domain, mailbox).
// The appliance admin sets anything; a domain admin sets, for their own domains and mailboxes,
// only the settings listed in `policy.domainsMayOverride` — a change touching another setting (or
// a quota) is refused whole with 403, naming the settings. A mailbox user may read their own
// mailbox's effective policy. Saving goes through ConfigService's validation like every change.
// Quarantine use against its quotas (`/api/quarantine-usage`) is read here too, within the caller's scope.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';
import Type, { type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { ConsoleContext } from '../route-context.ts';
import { changeConfig } from '../route-context.ts';
import { DomainPolicy, MailboxPolicy, type Config } from '../../config/schema.ts';
import { domainPolicy, mailboxPolicy, refusedChanges, resolvePolicy } from '../../policy/policy.ts';
import { forbidden, notFound, unavailable } from '../errors.ts';
import { scopeOf } from '../providers/interfaces.ts';
import type { SchemaRequest } from '../guard.ts';
import type { Principal } from '../roles.ts';

const NameParam = Type.Object({ name: Type.String({ minLength: 1, maxLength: 253 }) });
const AddressParam = Type.Object({ address: Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$', maxLength: 320 }) });

/** Every problem of the body at once, unknown keys included (a misspelt setting is not dropped). */
const strict: FastifySchemaCompiler<TSchema> = ({ schema }) => {
  const validator = Compile(schema);
  return (input) => (validator.Check(input) ? { value: input } : { error: validator.Errors(input) });
};

const served = (cfg: Config, name: string) => cfg.domains.find((d) => d.name.toLowerCase() === name.toLowerCase())?.name;

/** Drops the keys of a level left unset, so "inherit" is stored as absence. */
function compact<T extends object>(o: T): T | undefined {
  const out = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as T;
  return Object.keys(out).length ? out : undefined;
}

function checkAllowed(p: Principal, cfg: Config, before: object | undefined, after: object | undefined): void {
  if (p.role === 'admin') return;
  const refused = refusedChanges(cfg, before, after);
  if (refused.length) throw forbidden('api.forbidden.policy-setting', { settings: refused.join(', ') });
}

export default async function policyRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  const domainView = (cfg: Config, name: string) => ({
    domain: name,
    own: domainPolicy(cfg, name) ?? {},
    effective: resolvePolicy(cfg, name),
    feedback: domainPolicy(cfg, name)?.feedback !== false,
  });

  app.get('/api/policy/domains/:name', {
    config: { access: { roles: ['admin', 'domain-admin'], targets: (req: SchemaRequest<{ params: typeof NameParam }>) => [{ domain: req.params.name.toLowerCase() }] } },
    schema: { params: NameParam },
  }, async (req) => {
    const cfg = ctx.config.current;
    const name = served(cfg, req.params.name);
    if (!name) throw notFound('api.not-found.domain');
    return domainView(cfg, name);
  });

  app.put('/api/policy/domains/:name', {
    config: { access: { roles: ['admin', 'domain-admin'], targets: (req: SchemaRequest<{ params: typeof NameParam }>) => [{ domain: req.params.name.toLowerCase() }] } },
    schema: { params: NameParam, body: DomainPolicy },
    validatorCompiler: strict,
  }, async (req) => {
    const cfg = ctx.config.current;
    const name = served(cfg, req.params.name);
    if (!name) throw notFound('api.not-found.domain');
    const before = domainPolicy(cfg, name);
    const after = compact(req.body);
    checkAllowed(req.principal!, cfg, before, after);
    const next = await changeConfig(ctx, (draft) => {
      for (const k of Object.keys(draft.policy.domains)) if (k.toLowerCase() === name.toLowerCase()) delete draft.policy.domains[k];
      if (after) draft.policy.domains[name] = after;
    }, `/policy/domains/${name}`);
    req.auditDetail = { domain: name, policy: after ?? null };
    return domainView(next, name);
  });

  const mailboxView = (cfg: Config, address: string, domain: string) => ({
    address,
    own: mailboxPolicy(cfg, address) ?? {},
    effective: resolvePolicy(cfg, domain, address),
  });

  app.get('/api/policy/mailboxes/:address', {
    config: { access: { roles: 'any', targets: (req: SchemaRequest<{ params: typeof AddressParam }>) => [{ address: req.params.address.toLowerCase() }] } },
    schema: { params: AddressParam },
  }, async (req) => {
    const cfg = ctx.config.current;
    const address = req.params.address.toLowerCase();
    const domain = served(cfg, address.slice(address.lastIndexOf('@') + 1));
    if (!domain) throw notFound('api.not-found.domain');
    return mailboxView(cfg, address, domain);
  });

  app.put('/api/policy/mailboxes/:address', {
    config: { access: { roles: ['admin', 'domain-admin'], targets: (req: SchemaRequest<{ params: typeof AddressParam }>) => [{ address: req.params.address.toLowerCase() }] } },
    schema: { params: AddressParam, body: MailboxPolicy },
    validatorCompiler: strict,
  }, async (req) => {
    const cfg = ctx.config.current;
    const address = req.params.address.toLowerCase();
    const domain = served(cfg, address.slice(address.lastIndexOf('@') + 1));
    if (!domain) throw notFound('api.not-found.domain');
    const before = mailboxPolicy(cfg, address);
    const after = compact(req.body);
    checkAllowed(req.principal!, cfg, before, after);
    const next = await changeConfig(ctx, (draft) => {
      for (const k of Object.keys(draft.policy.mailboxes)) if (k.toLowerCase() === address) delete draft.policy.mailboxes[k];
      if (after) draft.policy.mailboxes[address] = after;
    }, `/policy/mailboxes/${address}`);
    req.auditDetail = { address, policy: after ?? null };
    return mailboxView(next, address, domain);
  });

  app.get('/api/quarantine-usage', { config: { access: { roles: 'any' } } }, async (req) => {
    const quota = ctx.providers.quota;
    if (!quota) throw unavailable('api.unavailable.quarantine');
    return quota.usage(scopeOf(req.principal!));
  });
}
