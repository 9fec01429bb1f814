// Network interfaces from the browser (admin only), with the serial menu's safety: a change is
// tried first (system/network-trial.ts) and reverts by itself unless the admin confirms it within
// CONFIRM_SECONDS — from the same browser, which shows that it can still reach the box. Problems
// with the settings come back at their field (/settings/<n>/<field>). The box's own DNS resolvers
// (`resolvers`, beside the interfaces' own) are tried and kept or reverted the same way, alone or
// with an interface; a wrong one comes back at /resolvers/<n>. The audit log says in words what
// was tried, kept or reverted.
import os from 'node:os';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type, { type Static } from 'typebox';
import { problem } from '../../config/problems.ts';
import { interfaceProblems, MAX_RESOLVERS, resolverProblems, type InterfaceSettings } from '../../system/network.ts';
import { describeTrial } from '../../system/network-trial.ts';
import type { ConsoleContext } from '../route-context.ts';
import { invalid, notFound } from '../errors.ts';

export const CONFIRM_SECONDS = 120;
const adminOnly = { roles: ['admin'] as const, targets: () => [{ system: true as const }] };
// One shape for both modes (a union of objects would have fastify strip the static fields while it
// tries the DHCP alternative); the static fields are required by the checks below, at their field.
const Iface = Type.Object({
  name: Type.String({ maxLength: 64 }),
  mode: Type.Union([Type.Literal('dhcp'), Type.Literal('static')]),
  address: Type.Optional(Type.String({ maxLength: 64 })),
  prefix: Type.Optional(Type.Integer()),
  gateway: Type.Optional(Type.String({ maxLength: 64 })),
  dns: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 8 })),
}, { additionalProperties: false });

function settingsOf(i: Static<typeof Iface>): InterfaceSettings {
  if (i.mode === 'dhcp') return { name: i.name, mode: 'dhcp' };
  return { name: i.name, mode: 'static', address: i.address ?? '', prefix: i.prefix ?? 0, ...(i.gateway ? { gateway: i.gateway } : {}), dns: i.dns ?? [] };
}
const IdParam = Type.Object({ id: Type.String({ maxLength: 64 }) });

export default async function networkRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.get('/api/system/network', { config: { access: adminOnly } }, async () => ({
    interfaces: ctx.providers.system ? await ctx.providers.system.network()
      : Object.entries(os.networkInterfaces()).filter(([name]) => name !== 'lo').map(([name, list]) => ({ name, addresses: (list ?? []).map((a) => a.cidr ?? a.address) })),
    resolvers: await ctx.network.resolvers(),
    trial: ctx.network.current,
    confirmSeconds: CONFIRM_SECONDS,
  }));

  app.post('/api/system/network/trial', {
    config: { access: adminOnly },
    schema: { body: Type.Object({
      settings: Type.Array(Iface, { maxItems: 8 }),
      resolvers: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: MAX_RESOLVERS, description: "the box's own DNS servers ([]: none of its own)" })),
    }, { additionalProperties: false }) },
  }, async (req) => {
    const settings = req.body.settings.map(settingsOf);
    const resolvers = req.body.resolvers?.map((r) => r.trim());
    const problems = settings.flatMap((s, i) => interfaceProblems(s).map((p) => problem(`/settings/${i}/${p.field}`, 'problem.network-settings', { detail: p.message })));
    for (const p of resolverProblems(resolvers ?? [])) {
      problems.push(p.kind === 'too-many' ? problem(`/resolvers`, 'problem.network-settings', { detail: p.message })
        : problem(`/resolvers/${p.index}`, p.kind === 'twice' ? 'problem.resolver-twice' : 'problem.resolver-not-ip', { value: resolvers![p.index] }));
    }
    if (!settings.length && !resolvers) problems.push(problem('/settings', 'problem.network-settings', { detail: 'give an interface or the DNS servers to change' }));
    if (new Set(settings.map((s) => s.name)).size !== settings.length) problems.push(problem('/settings', 'problem.network-settings', { detail: 'an interface is listed twice' }));
    if (ctx.network.current?.state === 'pending') problems.push(problem('/', 'problem.network-trial-running'));
    if (problems.length) throw invalid(problems);
    const trial = await ctx.network.start(settings, CONFIRM_SECONDS, resolvers);
    req.auditDetail = { words: `tried ${describeTrial(trial)}; reverts at ${trial.revertAt} unless kept` };
    return { trial };
  });

  for (const action of ['confirm', 'revert'] as const) {
    app.post(`/api/system/network/trial/:id/${action}`, { config: { access: adminOnly }, schema: { params: IdParam } }, async (req) => {
      const trial = await (action === 'confirm' ? ctx.network.confirm(req.params.id) : ctx.network.revert(req.params.id));
      if (!trial) throw notFound('api.not-found.network-trial');
      req.auditDetail = { words: `${action === 'confirm' ? 'kept' : 'reverted'} ${describeTrial(trial)}` };
      return { trial };
    });
  }
}
