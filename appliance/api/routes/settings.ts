// The console's settings forms (admin only): one request per group of settings (config/
// settings-groups.ts), carrying the new value of each setting the form shows by its JSON pointer.
// Every setting is checked by the configuration's own validation, with the problems' paths left
// as full pointers so the form shows each at its field; nothing outside the group can be changed.
// The audit record says in words what changed (label, old value → new value; secrets masked).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { problem } from '../../config/problems.ts';
import { isSettingsGroup, SECRET_SETTINGS, SETTINGS_GROUPS, setValueAt, valueAt } from '../../config/settings-groups.ts';
import { optionalSettingsText } from '../../i18n/settings-texts.ts';
import type { ConsoleContext } from '../route-context.ts';
import { changeConfig } from '../route-context.ts';
import { invalid, notFound } from '../errors.ts';

const adminOnly = { roles: ['admin'] as const, targets: () => [{ system: true as const }] };

/** A value as the audit log shows it: short, secrets hidden. */
function shown(pointer: string, value: unknown): string {
  if (value === undefined) return '(not set)';
  if (SECRET_SETTINGS.includes(pointer)) return Array.isArray(value) ? `${value.length} entries (secrets not logged)` : '(secret)';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

export default async function settingsRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.put('/api/system/settings/:group', {
    config: { access: adminOnly },
    schema: {
      params: Type.Object({ group: Type.String() }),
      // null unsets a setting (JSON has no undefined): an optional one is left out, any other takes its default.
      body: Type.Object({ values: Type.Record(Type.String(), Type.Unknown()) }, { additionalProperties: false }),
    },
  }, async (req) => {
    const group = req.params.group;
    if (!isSettingsGroup(group)) throw notFound('api.not-found.section', { section: group });
    const allowed: readonly string[] = SETTINGS_GROUPS[group];
    const values = req.body.values;
    const outside = Object.keys(values).filter((p) => !allowed.includes(p));
    if (outside.length) throw invalid(outside.map((p) => problem(p, 'problem.unknown-keys', { keys: p })));
    const before = ctx.config.current;
    const config = await changeConfig(ctx, (draft) => {
      for (const [pointer, value] of Object.entries(values)) setValueAt(draft as unknown as Record<string, unknown>, pointer, value === null ? undefined : value);
    });
    const changes = Object.keys(values)
      .filter((p) => JSON.stringify(valueAt(before, p)) !== JSON.stringify(valueAt(config, p)))
      .map((p) => ({ setting: p, words: `${optionalSettingsText('en', `label:${p}`) ?? p}: ${shown(p, valueAt(before, p))} → ${shown(p, valueAt(config, p))}` }));
    req.auditDetail = { group: optionalSettingsText('en', `group.${group}`) ?? group, changes };
    const out: Record<string, unknown> = {};
    for (const p of allowed) out[p] = valueAt(config, p) ?? null;
    return { values: out };
  });
}
