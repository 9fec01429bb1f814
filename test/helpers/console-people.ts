// The people an e2e test logs in as: first-boot setup ended, the appliance admin and the domain
// admin "dora", each with the password the tests type. One place, so every console test starts
// from the same accounts.
import type { ConsoleContext } from '../../appliance/api/route-context.ts';
import type { Language } from '../../appliance/i18n/catalog.ts';

export const ADMIN = { username: 'admin', password: 'admin password 1' } as const;
export const DORA = { username: 'dora', password: 'domain password 1' } as const;

/**
 * Ends setup and creates the admin and, when `dora` names domains, the domain admin of those
 * domains. Languages default to English (the labels the tests look for).
 */
export async function addConsolePeople(context: ConsoleContext, opts: { adminLanguage?: Language; dora?: string[]; doraLanguage?: Language } = {}): Promise<void> {
  await context.setup.complete('test');
  await context.users.create({ ...ADMIN, role: 'admin', language: opts.adminLanguage ?? 'en' });
  if (opts.dora) await context.users.create({ ...DORA, role: 'domain-admin', domains: opts.dora, language: opts.doraLanguage ?? 'en' });
}
