// The serial-console and screen maintenance menu: the login shell of the `maint` user. It shows
// the status first, then offers the few actions an admin needs at the box when the network or
// the web console is out of reach. Mail-side actions (status, setup code, admin password, queue
// flush) go to the daemon's local API socket; privileged system actions run through sudo rules
// limited to exactly these commands (image/overlay/etc/sudoers.d/mailmoat). It never opens the store.
// Anyone at the screen or serial line reaches it, so once setup is done it is locked: until a
// console admin's password is given (checked by the daemon, with the web console's lockout), it
// offers only what cannot change the box's settings or data or grant access — status, diagnostics,
// logs, restarting a service, reboot and shut down. Before setup nothing needs protecting yet.
import { spawn, spawnSync } from 'node:child_process';
import readline from 'node:readline/promises';
import { callDaemon, type LocalStatus } from './api-client.ts';
import { collectStatus, formatStatus, SERVICES, type ConsoleStatus } from './status.ts';
import { runDiagnostics } from './diagnostics.ts';
import { formatSlots, installFromMenu, slotStatus } from './update.ts';

export interface MenuIo {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

const RESTARTABLE = ['mailmoat', 'clamav-daemon', 'snmpd', 'rsyslog', 'systemd-networkd'];
const WIPE_CONFIRMATION = 'WIPE ALL DATA';

const ITEMS = [
  '1) Status and addresses',
  '2) Run diagnostics (DNS, route, clamd, disk)',
  '3) Show the setup code',
  '4) Restart a service',
  '5) Show recent log lines',
  '6) Reboot',
  '7) Shut down',
  '8) Factory reset (wipe the data partition)',
  '9) Reset the web console admin password',
  '10) Flush the mail queue (deliver now)',
  '11) Set network (interface address, gateway, DNS)',
  '12) System update (install a signed bundle from a file or URL)',
  '0) Log out',
];
// What the locked menu offers (see the top of this file).
const WHILE_LOCKED = new Set(['1', '2', '4', '5', '6', '7', '0']);
const UNLOCK_ITEM = 'U) Unlock the other items with a console admin\'s password';

/** Runs a command with its output on the menu's screen; resolves to its exit code. */
function run(command: string, args: string[], io: MenuIo, interactive = false): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: [interactive ? 'inherit' : 'ignore', 'pipe', 'pipe'] });
    // Ctrl-C during a dialogue is the dialogue's to handle (set-network rolls back): the terminal
    // sends it to the child as well, and the menu, which shows the child's output, stays.
    const keepMenu = () => {};
    if (interactive) process.on('SIGINT', keepMenu);
    const done = (code: number) => { process.off('SIGINT', keepMenu); resolve(code); };
    child.stdout.on('data', (d) => io.output.write(d));
    child.stderr.on('data', (d) => io.output.write(d));
    child.on('exit', (code) => done(code ?? 1));
    child.on('error', (err) => { io.output.write(`cannot run ${command}: ${err.message}\n`); done(1); });
  });
}

/** A privileged action: only the exact commands the sudoers rule lists run. */
function sudo(args: string[], io: MenuIo, interactive = false): Promise<number> {
  return run('sudo', ['-n', ...args], io, interactive);
}

export async function runMenu(io: MenuIo): Promise<number> {
  const rl = readline.createInterface({ input: io.input, output: io.output, terminal: false });
  const say = (text: string) => io.output.write(text + '\n');
  const ask = async (q: string) => {
    io.output.write(q);
    const answer = await rl.question('').catch(() => null);
    return answer === null ? null : answer.trim();
  };
  // The password is not echoed where the input is this process's terminal.
  const askSecret = async (q: string) => {
    const tty = io.input === process.stdin && process.stdin.isTTY;
    if (tty) spawnSync('stty', ['-echo'], { stdio: ['inherit', 'ignore', 'ignore'] });
    try {
      return await ask(q);
    } finally {
      if (tty) { spawnSync('stty', ['echo'], { stdio: ['inherit', 'ignore', 'ignore'] }); say(''); }
    }
  };
  try {
    say('\n=== Mailmoat maintenance ===\n');
    // Locked unless the daemon says setup is pending; not knowing (it does not answer) counts as
    // set up. The status drawn again (item 1) may lift a lock that came only from not knowing.
    const setupPending = (s: ConsoleStatus) => 'setup' in s.daemon && s.daemon.setup.pending;
    const first = await collectStatus();
    say(formatStatus(first));
    let locked = !setupPending(first);
    for (;;) {
      if (locked) {
        say('\n' + ITEMS.filter((item) => WHILE_LOCKED.has(item.split(')')[0])).join('\n') + '\n' + UNLOCK_ITEM);
      } else {
        say('\n' + ITEMS.join('\n'));
      }
      const choice = await ask(locked ? 'Choose an item, or U to unlock: ' : 'Choose 0-12: ');
      if (choice === null || choice === '0') return 0;
      if (locked && choice.toUpperCase() === 'U') {
        const username = await ask('Console admin: ');
        if (username === null) return 0;
        const password = await askSecret('Password: ');
        if (password === null) return 0;
        const unlocked = await callDaemon<{ username: string }>('POST', '/menu/unlock', { username, password }).catch((err: Error) => err);
        if (unlocked instanceof Error) say(`\nStill locked: ${unlocked.message}.`);
        else { locked = false; say(`\nUnlocked for ${unlocked.username} until you log out.`); }
        continue;
      }
      if (locked && !WHILE_LOCKED.has(choice)) {
        say(ITEMS.some((item) => item.split(')')[0] === choice) ? `Item ${choice} needs a console admin's password first (U).` : `"${choice}" is not on the menu.`);
        continue;
      }
      switch (choice) {
        case '1': {
          const now = await collectStatus();
          say('\n' + formatStatus(now));
          if (setupPending(now)) locked = false;
          break;
        }
        case '2':
          say('\nRunning diagnostics...');
          for (const r of await runDiagnostics()) say(`  [${r.ok ? ' ok ' : 'FAIL'}] ${r.name.padEnd(6)} ${r.detail}`);
          break;
        case '3': {
          const status = await callDaemon<LocalStatus>('GET', '/status').catch((err: Error) => err);
          if (status instanceof Error) say(`\n${status.message}`);
          else if (status.setup.code) say(`\nSetup code: ${status.setup.code}\nEnter it in the web console's setup wizard (${status.consoleUrls.join(' or ') || 'the console is not running'}).`);
          else say(status.setup.pending ? '\nSetup is pending but no setup code exists: restart the mailmoat service (item 4) to make one.'
            : '\nSetup is complete: there is no setup code any more.');
          break;
        }
        case '4': {
          const which = await ask(`Service (${RESTARTABLE.join(', ')}): `);
          if (which && RESTARTABLE.includes(which)) {
            const code = await sudo(['/usr/bin/systemctl', 'restart', `${which}.service`], io);
            say(code === 0 ? `${which} restarted.` : `restarting ${which} failed (exit ${code}): see its log (item 5).`);
          } else if (which) say(`"${which}" is not one of the services this menu restarts.`);
          break;
        }
        case '5':
          // The daemon's own warnings first (disk, clamd, delivery), so other services' chatter
          // cannot push them off the screen; then the recent lines of every appliance service.
          say('Warnings and errors from the mailmoat daemon:');
          // maint reads the journal as a member of systemd-journal: no root needed (and journalctl
          // as root would open a pager that can start a shell).
          await run('/usr/bin/journalctl', ['--no-pager', '-n', '15', '-p', 'warning', '-u', 'mailmoat.service'], io);
          say('Recent log lines of the appliance services:');
          await run('/usr/bin/journalctl', ['--no-pager', '-n', '40', ...SERVICES.flatMap((s) => ['-u', `${s}.service`])], io);
          break;
        case '6':
          if ((await ask('Reboot now? (yes/no): ')) === 'yes') return sudo(['/usr/bin/systemctl', 'reboot'], io);
          break;
        case '7':
          if ((await ask('Shut down now? (yes/no): ')) === 'yes') return sudo(['/usr/bin/systemctl', 'poweroff'], io);
          break;
        case '8': {
          say('\nFactory reset erases the data partition: configuration, quarantine, logs, statistics, keys.');
          say('The system itself stays; the box restarts as new, with a new setup code.');
          const typed = await ask(`Type "${WIPE_CONFIRMATION}" to go on, anything else to cancel: `);
          if (typed === WIPE_CONFIRMATION) return sudo(['/usr/local/sbin/mailmoat-factory-reset', '--yes-wipe-all-data'], io);
          say('Cancelled: nothing was changed.');
          break;
        }
        case '9': {
          const name = await ask('Admin to reset (empty: the only admin): ');
          if (name === null) return 0;
          const reset = await callDaemon<{ username: string; password: string }>('POST', '/admin/reset-password', name ? { username: name } : {})
            .catch((err: Error) => err);
          say(reset instanceof Error ? `\nNo password was changed: ${reset.message}`
            : `\nNew password for ${reset.username}: ${reset.password}\nLog in with it and change it under your account.`);
          break;
        }
        case '10': {
          const flushed = await callDaemon<{ flushed: number }>('POST', '/queue/flush').catch((err: Error) => err);
          say(flushed instanceof Error ? `\n${flushed.message}` : `\n${flushed.flushed} queued message(s) are being delivered now.`);
          break;
        }
        case '11':
          // Runs as root (sudo rule for exactly this command) and asks its own questions.
          rl.pause();
          await sudo(['/usr/local/bin/mailmoat', 'menu', 'set-network'], io, true);
          rl.resume();
          break;
        case '12': {
          say('\n' + formatSlots(await slotStatus()));
          const source = await ask('Bundle file path or http(s) URL (empty: cancel): ');
          if (!source) { say('Cancelled: nothing was changed.'); break; }
          if (await installFromMenu(source, say) && (await ask('Reboot into the new system now? (yes/no): ')) === 'yes') {
            return sudo(['/usr/bin/systemctl', 'reboot'], io);
          }
          break;
        }
        default:
          say(`"${choice}" is not on the menu.`);
      }
    }
  } finally {
    rl.close();
  }
}
