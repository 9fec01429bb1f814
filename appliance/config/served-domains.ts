// The domains this appliance serves, each under its own name and its aliases. The SMTP recipient
// policy asks at RCPT time and the delivery queue asks to route; both read the configuration, so
// the lookup lives beside it rather than in either of them. Built once per configuration object
// (a change replaces the object, so a stale map is never asked).
import type { Config, Domain } from './schema.ts';

const maps = new WeakMap<Config, Map<string, Domain>>();

/** The served domain for a domain name or one of its aliases (any case), if any. */
export function servedDomain(config: Config, name: string): Domain | undefined {
  let byName = maps.get(config);
  if (!byName) {
    byName = new Map();
    for (const d of config.domains) for (const n of [d.name, ...d.aliases]) byName.set(n.toLowerCase(), d);
    maps.set(config, byName);
  }
  return byName.get(name.toLowerCase());
}
