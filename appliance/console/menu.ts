// The serial-console and screen maintenance menu: the login shell of the `maint` user. It shows
// the status first, then offers the few actions an admin needs at the box when the network or
// the web console is out of reach. Mail-side actions (status, setup code, admin password, queue
// flush) go to the daemon's local API socket; privileged system actions run through sudo rules
// limited to exactly these commands (image/overlay/etc/sudoers.d/mailmoat). It never opens the store.
// Anyone at the screen or serial line reaches it, so once setup is done it is locked: until a
// console admin's password is given (checked by the daemon, with the web console's lockout), it
// offers only what cannot change the box's settings or data or grant access — status, diagnostics,
// logs, restarting a service, reboot and shut down. Before setup nothing needs protecting yet.
// It speaks the language chosen in the setup wizard where the terminal can show it, else plain
// ASCII English (appliance/console/language.ts); its words are the shared catalog's `menu.*`, the
// diagnostics' findings too, and the daemon's refusals the server catalog's `local.*`.
import { spawn, spawnSync } from 'node:child_process';
import readline from 'node:readline/promises';
import { translate, type Language, type MessageKey } from '../i18n/catalog.ts';
import { callDaemon, DaemonError, supportBundleTo, type LocalStatus } from './api-client.ts';
import { errorText } from '../i18n/server-messages.ts';
import { collectStatus, formatStatus, SERVICES, type ConsoleStatus } from './status.ts';
import { runDiagnostics } from './diagnostics.ts';
import { formatSlots, installFromMenu, slotStatus } from './update.ts';

export interface MenuIo {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** The terminal's environment (LANG, TERM…): whether it can show Japanese. */
  env?: NodeJS.ProcessEnv;
}

const RESTARTABLE = ['mailmoat', 'clamav-daemon', 'snmpd', 'rsyslog', 'systemd-networkd'];
const WIPE_CONFIRMATION = 'WIPE ALL DATA';

const ITEMS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12', '13', '0'] as const;
// What the locked menu offers (see the top of this file).
const WHILE_LOCKED = new Set<string>(['1', '2', '4', '5', '6', '7', '0']);

/** Runs a command with its output on the menu's screen; resolves to its exit code. */
function run(command: string, args: string[], io: MenuIo, lang: Language, interactive = false): Promise<number> {
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
    child.on('error', (err) => { io.output.write(`${translate(lang, 'menu.cannotRun', { command, reason: err.message })}\n`); done(1); });
  });
}

/** A privileged action: only the exact commands the sudoers rule lists run. */
function sudo(args: string[], io: MenuIo, lang: Language, interactive = false): Promise<number> {
  return run('sudo', ['-n', ...args], io, lang, interactive);
}

export async function runMenu(io: MenuIo): Promise<number> {
  const env = io.env ?? process.env;
  const rl = readline.createInterface({ input: io.input, output: io.output, terminal: false });
  // The language is known once the daemon's status is in; until then (and without it) English.
  let lang: Language = 'en';
  const tr = (key: MessageKey, params?: Record<string, string | number>) => translate(lang, key, params);
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
  const item = (n: (typeof ITEMS)[number]) => `${n}) ${tr(`menu.item.${n}`)}`;
  // The local API's and its client's failures come with their text in the catalog.
  const why = (err: Error) => (err instanceof DaemonError ? errorText(lang, err.text) : err.message);
  try {
    // Locked unless the daemon says setup is pending; not knowing (it does not answer) counts as
    // set up. The status drawn again (item 1) may lift a lock that came only from not knowing.
    const setupPending = (s: ConsoleStatus) => 'setup' in s.daemon && s.daemon.setup.pending;
    const first = await collectStatus(undefined, env);
    lang = first.language ?? 'en';
    say(`\n${tr('menu.title')}\n`);
    say(formatStatus(first));
    let locked = !setupPending(first);
    for (;;) {
      if (locked) {
        say('\n' + ITEMS.filter((n) => WHILE_LOCKED.has(n)).map(item).join('\n') + '\n' + tr('menu.unlockItem'));
      } else {
        say('\n' + ITEMS.map(item).join('\n'));
      }
      const choice = await ask(locked ? tr('menu.chooseLocked') : tr('menu.choose'));
      if (choice === null || choice === '0') return 0;
      if (locked && choice.toUpperCase() === 'U') {
        const username = await ask(tr('menu.adminName'));
        if (username === null) return 0;
        const password = await askSecret(tr('menu.password'));
        if (password === null) return 0;
        const unlocked = await callDaemon<{ username: string }>('POST', '/menu/unlock', { username, password }).catch((err: Error) => err);
        if (unlocked instanceof Error) say(`\n${tr('menu.stillLocked', { reason: why(unlocked) })}`);
        else { locked = false; say(`\n${tr('menu.unlocked', { username: unlocked.username })}`); }
        continue;
      }
      if (locked && !WHILE_LOCKED.has(choice)) {
        say((ITEMS as readonly string[]).includes(choice) ? tr('menu.needsUnlock', { item: choice }) : tr('menu.notOnMenu', { choice }));
        continue;
      }
      switch (choice) {
        case '1': {
          const now = await collectStatus(undefined, env);
          lang = now.language ?? lang;
          say('\n' + formatStatus(now));
          if (setupPending(now)) locked = false;
          break;
        }
        case '2':
          say(`\n${tr('menu.diagnosing')}`);
          for (const r of await runDiagnostics()) say(`  [${tr(r.ok ? 'menu.diag.ok' : 'menu.diag.fail')}] ${tr(`menu.diag.name.${r.name}`).padEnd(6)} ${tr(r.detail.key, r.detail.params)}`);
          break;
        case '3': {
          const status = await callDaemon<LocalStatus>('GET', '/status').catch((err: Error) => err);
          if (status instanceof Error) say(`\n${why(status)}`);
          else if (status.setup.code) {
            say(`\n${tr('menu.setupCode', { code: status.setup.code })}\n${tr('menu.setupCodeWhere', { where: status.consoleUrls.join(tr('menu.or')) || tr('menu.consoleNotRunning') })}`);
          } else say(`\n${tr(status.setup.pending ? 'menu.setupNoCode' : 'menu.setupDone')}`);
          break;
        }
        case '4': {
          const which = await ask(tr('menu.whichService', { services: RESTARTABLE.join(', ') }));
          if (which && RESTARTABLE.includes(which)) {
            const code = await sudo(['/usr/bin/systemctl', 'restart', `${which}.service`], io, lang);
            say(code === 0 ? tr('menu.restarted', { service: which }) : tr('menu.restartFailed', { service: which, code }));
          } else if (which) say(tr('menu.notRestartable', { service: which }));
          break;
        }
        case '5':
          // The daemon's own warnings first (disk, clamd, delivery), so other services' chatter
          // cannot push them off the screen; then the recent lines of every appliance service.
          say(tr('menu.logWarnings'));
          // maint reads the journal as a member of systemd-journal: no root needed (and journalctl
          // as root would open a pager that can start a shell).
          await run('/usr/bin/journalctl', ['--no-pager', '-n', '15', '-p', 'warning', '-u', 'mailmoat.service'], io, lang);
          say(tr('menu.logRecent'));
          await run('/usr/bin/journalctl', ['--no-pager', '-n', '40', ...SERVICES.flatMap((s) => ['-u', `${s}.service`])], io, lang);
          break;
        case '6':
          if ((await ask(tr('menu.rebootAsk'))) === 'yes') return sudo(['/usr/bin/systemctl', 'reboot'], io, lang);
          break;
        case '7':
          if ((await ask(tr('menu.shutdownAsk'))) === 'yes') return sudo(['/usr/bin/systemctl', 'poweroff'], io, lang);
          break;
        case '8': {
          say(`\n${tr('menu.wipeWhat')}`);
          say(tr('menu.wipeStays'));
          const typed = await ask(tr('menu.wipeAsk', { phrase: WIPE_CONFIRMATION }));
          if (typed === WIPE_CONFIRMATION) return sudo(['/usr/local/sbin/mailmoat-factory-reset', '--yes-wipe-all-data'], io, lang);
          say(tr('menu.cancelled'));
          break;
        }
        case '9': {
          const name = await ask(tr('menu.resetWho'));
          if (name === null) return 0;
          const reset = await callDaemon<{ username: string; password: string }>('POST', '/admin/reset-password', name ? { username: name } : {})
            .catch((err: Error) => err);
          say(reset instanceof Error ? `\n${tr('menu.resetFailed', { reason: why(reset) })}`
            : `\n${tr('menu.newPassword', { username: reset.username, password: reset.password })}\n${tr('menu.newPasswordHint')}`);
          break;
        }
        case '10': {
          const flushed = await callDaemon<{ flushed: number }>('POST', '/queue/flush').catch((err: Error) => err);
          say(flushed instanceof Error ? `\n${why(flushed)}` : `\n${tr('menu.flushed', { count: flushed.flushed })}`);
          break;
        }
        case '11':
          // Runs as root (sudo rule for exactly this command) and asks its own questions.
          rl.pause();
          await sudo(['/usr/local/bin/mailmoat', 'menu', 'set-network'], io, lang, true);
          rl.resume();
          break;
        case '12': {
          say(`\n${tr('menu.bundleMount')}`);
          const folder = await ask(tr('menu.bundleFolder'));
          if (!folder) { say(tr('menu.cancelled')); break; }
          const written = await supportBundleTo(folder).catch((err: Error) => err);
          say(written instanceof Error ? `\n${tr('menu.bundleFailed', { reason: why(written) })}` : `\n${tr('menu.bundleWritten', { file: written.file, bytes: written.bytes })}`);
          break;
        }
        case '13': {
          say('\n' + formatSlots(await slotStatus()));
          const source = await ask(tr('menu.updateSource'));
          if (!source) { say(tr('menu.cancelled')); break; }
          if (await installFromMenu(source, say) && (await ask(tr('menu.updateReboot'))) === 'yes') {
            return sudo(['/usr/bin/systemctl', 'reboot'], io, lang);
          }
          break;
        }
        default:
          say(tr('menu.notOnMenu', { choice }));
      }
    }
  } finally {
    rl.close();
  }
}
