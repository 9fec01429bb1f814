// The `mailmoat` command: the daemon's entry point and the admin's tools. Each sub-command lives
// in appliance/cli/<name>.ts and exports `run(args): Promise<number>` (the exit status).
const commands: Record<string, { summary: string; load: () => Promise<{ run(args: string[]): Promise<number> }> }> = {
  start: { summary: 'start the appliance daemon: start [--config FILE | --seed-config FILE] [--data DIR] [--appliance] [--ready-file FILE]', load: () => import('./start.ts') },
  'check-config': { summary: 'validate a configuration file: check-config FILE', load: () => import('./check-config.ts') },
  'hash-password': { summary: 'hash a relay user password for the config (reads stdin)', load: () => import('./hash-password.ts') },
  train: { summary: 'train the classifier: train --data DIR (--spam PATH... | --ham PATH... | --starter)', load: () => import('./train.ts') },
  classify: { summary: 'score messages: classify --data DIR PATH...', load: () => import('./classify.ts') },
  'reindex-log': { summary: 'rebuild the message log search indexes from its records: reindex-log [--data DIR]', load: () => import('./reindex-log.ts') },
  'system-files': { summary: 'write the system daemons\' settings files from a configuration: system-files --config FILE --out DIR', load: () => import('./system-files.ts') },
  backup: { summary: 'write an encrypted backup of a stopped appliance: backup --data DIR --out FILE [--passphrase-file F]', load: () => import('./backup.ts') },
  restore: { summary: 'restore a backup into a stopped appliance: restore --data DIR [--passphrase-file F] FILE', load: () => import('./restore.ts') },
  'network-sync': { summary: 'make networkd follow the network change the console is trying (root, from mailmoat-apply-system): network-sync [--data DIR]', load: () => import('./network-sync.ts') },
  'slot-check': { summary: 'the boot\'s health gate for system updates (root, at boot): slot-check [--data DIR] [--limit-minutes N]', load: () => import('./slot-check.ts') },
  menu: { summary: 'the maintenance menu of the serial console and screen (login shell of "maint")', load: () => import('./menu.ts') },
};

function usage(): string {
  return 'usage: mailmoat <command> [options]\n\ncommands:\n' +
    Object.entries(commands).map(([name, c]) => `  ${name.padEnd(14)} ${c.summary}`).join('\n');
}

const [name, ...args] = process.argv.slice(2);
const command = name ? commands[name] : undefined;
if (!command) {
  console.error(name && name !== '--help' && name !== 'help' ? `mailmoat: unknown command "${name}"\n\n${usage()}` : usage());
  process.exitCode = name && name !== '--help' && name !== 'help' ? 2 : 0;
} else {
  try {
    const status = await (await command.load()).run(args);
    process.exitCode = status;
  } catch (err) {
    console.error(`mailmoat ${name}: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
