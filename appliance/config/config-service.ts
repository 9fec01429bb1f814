// The active configuration: stored in the `config` sublevel, optionally seeded or replaced by a
// YAML/JSON file given with --config (configuration as code). A file that fails validation is
// refused with every problem listed and the stored configuration is left exactly as it was.
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import type { Store, Sublevel } from '../store/store.ts';
import type { Config } from './schema.ts';
import { problem } from './problems.ts';
import { upgradeStoredConfig } from './upgrade.ts';
import { validateConfig, type ConfigProblem } from './validate.ts';

const KEY = 'current';

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(source: string, problems: ConfigProblem[]) {
    super(`${source} is not a valid configuration:\n` + problems.map((p) => `  ${p.path}: ${p.message}`).join('\n') +
      '\nNothing was changed; fix these and try again.');
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Reads and parses a configuration file (YAML or JSON, by content). Throws ConfigError. */
export async function readConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [problem('/', 'problem.unreadable', { detail: (err as Error).message })]);
  }
  try {
    return YAML.parse(text, { prettyErrors: true }) ?? {};
  } catch (err) {
    throw new ConfigError(file, [problem('/', 'problem.not-yaml', { detail: (err as Error).message })]);
  }
}

export interface ConfigEvents {
  change: [config: Config, previous: Config];
}

export class ConfigService extends EventEmitter<ConfigEvents> {
  #db: Sublevel<Config>;
  #current: Config;
  #guard: (() => Promise<void>) | undefined;

  private constructor(db: Sublevel<Config>, current: Config) {
    super();
    this.#db = db;
    this.#current = current;
  }

  /**
   * Opens the stored configuration. A file, when given, replaces it if valid (configuration as
   * code); with `seedOnly` the file is used only while nothing is stored yet (first boot).
   */
  static async open(store: Store, file?: string, opts: { seedOnly?: boolean; say?: (line: string) => void } = {}): Promise<ConfigService> {
    const db = store.sublevel<Config>('config');
    let current: Config;
    if (file && opts.seedOnly && (await db.get(KEY)) !== undefined) file = undefined;
    if (file) {
      const { document, changes } = upgradeStoredConfig(await readConfigFile(file));
      const result = validateConfig(document);
      if (!result.ok) throw new ConfigError(file, result.problems);
      current = result.config;
      for (const change of changes) opts.say?.(`mailmoat: ${file} upgraded: ${change}`);
      await db.put(KEY, current, { sync: true });
    } else {
      const { document: stored, changes } = upgradeStoredConfig(await db.get(KEY));
      const result = validateConfig(stored ?? {});
      // A stored document is only ever written after validation; re-validating applies new defaults.
      if (!result.ok) throw new ConfigError('the stored configuration', result.problems);
      current = result.config;
      // The upgraded form is used, not written back: the document stays as the earlier version wrote
      // it until the configuration is next saved, so a system update that falls back to that version
      // (its new slot never became healthy) still finds a configuration it can read.
      for (const change of changes) opts.say?.(`mailmoat: stored configuration read in this version's form (stored as is until next saved): ${change}`);
      if (stored === undefined) await db.put(KEY, current, { sync: true });
    }
    return new ConfigService(db, current);
  }

  get current(): Config {
    return this.#current;
  }

  /**
   * Runs before every change is stored; what it throws refuses the change (the box holds changes
   * while a system update is on trial: appliance/system/updates.ts, trialGuard).
   */
  guard(check: () => Promise<void>): void {
    this.#guard = check;
  }

  /** Throws what the guard throws when changes are held now; for acts that replace the configuration another way (a restore). */
  async checkChangeable(): Promise<void> {
    await this.#guard?.();
  }

  /** Validates and stores a whole new configuration, then tells listeners. Throws ConfigError, or what the guard throws. */
  async replace(input: unknown, source = 'the new configuration'): Promise<Config> {
    await this.checkChangeable();
    const result = validateConfig(input);
    if (!result.ok) throw new ConfigError(source, result.problems);
    const previous = this.#current;
    await this.#db.put(KEY, result.config, { sync: true });
    this.#current = result.config;
    this.emit('change', result.config, previous);
    return result.config;
  }
}
