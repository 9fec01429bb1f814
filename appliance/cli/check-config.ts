// `mailmoat check-config FILE`: validate a configuration file without touching any store.
import { ConfigError, readConfigFile } from '../config/config-service.ts';
import { upgradeStoredConfig } from '../config/upgrade.ts';
import { validateConfig } from '../config/validate.ts';

export async function run(args: string[]): Promise<number> {
  if (args.length !== 1) {
    console.error('usage: mailmoat check-config FILE');
    return 2;
  }
  try {
    const { document, changes } = upgradeStoredConfig(await readConfigFile(args[0]));
    for (const change of changes) console.log(`${args[0]}: written by an earlier version: ${change}`);
    const result = validateConfig(document);
    if (result.ok) {
      console.log(`${args[0]}: valid (${result.config.domains.length} domain(s))`);
      return 0;
    }
    console.error(new ConfigError(args[0], result.problems).message);
  } catch (err) {
    console.error((err as Error).message);
  }
  return 1;
}
