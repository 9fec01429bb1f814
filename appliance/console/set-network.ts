// The menu's "set network" dialogue, run as root (`mailmoat menu set-network` through a sudo rule
// for exactly that command): asks for one interface's DHCP or static settings, applies them with
// appliance/system/network.ts as a runtime candidate, and makes them persistent only when the
// admin types "keep" within a minute — so a wrong address cannot lock the box out of its network
// for good. Ctrl-C, a hang-up or a stop during the window rolls back at once; a reset or power
// loss leaves the candidate behind in /run, which the next boot does not have.
import type { EventEmitter } from 'node:events';
import { readdir } from 'node:fs/promises';
import readline from 'node:readline/promises';
import { changeNetwork, validateInterface, type InterfaceSettings, type NetworkChange } from '../system/network.ts';
import type { MenuIo } from './menu.ts';

export const NETWORK_DIRS = { dir: '/etc/systemd/network', runtimeDir: '/run/systemd/network' };
const CONFIRM_SECONDS = 60;
const INTERRUPTS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface SetNetworkOptions {
  /** networkd's persistent and runtime directories (default NETWORK_DIRS). */
  dirs?: { dir: string; runtimeDir: string };
  apply?: (interfaces: string[]) => Promise<void>;
  /** Where the interrupting signals arrive (default: this process). */
  signals?: Pick<EventEmitter, 'on' | 'off'>;
}

export async function runSetNetwork(io: MenuIo, o: SetNetworkOptions = {}): Promise<number> {
  const signals = o.signals ?? process;
  const rl = readline.createInterface({ input: io.input, output: io.output, terminal: false });
  const say = (text: string) => io.output.write(text + '\n');
  // Lines are read through the iterator, which buffers them: answers typed (or piped) ahead of
  // their question are not lost.
  const lines = rl[Symbol.asyncIterator]();
  const ask = async (q: string) => {
    io.output.write(q);
    const next = await lines.next();
    return next.done ? null : (next.value as string).trim();
  };
  try {
    const present = (await readdir('/sys/class/net').catch(() => [] as string[])).filter((n) => n !== 'lo');
    const name = await ask(`Interface (${present.join(', ') || 'none found'}): `);
    if (!name) return 1;
    const mode = await ask('Address by DHCP or static? (dhcp/static): ');
    let settings: InterfaceSettings;
    if (mode === 'dhcp') settings = { name, mode: 'dhcp' };
    else if (mode === 'static') {
      const [address, prefix] = ((await ask('Address/prefix, e.g. 192.0.2.10/24: ')) ?? '').split('/');
      const gateway = (await ask('Gateway (empty: none): ')) || undefined;
      const dns = ((await ask('DNS servers, separated by spaces (empty: none): ')) ?? '').split(/[\s,]+/).filter(Boolean);
      settings = { name, mode: 'static', address: address ?? '', prefix: Number(prefix), gateway, dns };
    } else {
      say('Cancelled: answer "dhcp" or "static".');
      return 1;
    }
    const problems = validateInterface(settings);
    if (problems.length) {
      say(`Nothing was changed:\n  ${problems.join('\n  ')}`);
      return 1;
    }
    // From here until the change is settled an interruption rolls back instead of ending the process.
    let change: NetworkChange | undefined;
    let interrupted = false;
    const onInterrupt = () => {
      interrupted = true;
      void change?.revert();
    };
    for (const sig of INTERRUPTS) signals.on(sig, onInterrupt);
    try {
      change = await changeNetwork({ ...(o.dirs ?? NETWORK_DIRS), settings: [settings], confirmSeconds: CONFIRM_SECONDS, apply: o.apply });
      if (interrupted) await change.revert();
      else say(`Applied to ${name}. Type "keep" within ${CONFIRM_SECONDS} s to keep it; otherwise the previous settings come back.`);
      const answer = interrupted ? null : await Promise.race([ask('Keep? '), change.outcome.then(() => null)]);
      if (answer === 'keep') await change.confirm().catch((err: Error) => say(err.message));
      else if (answer !== null) say(`Not confirmed: rolling back at ${change.revertAt.toLocaleTimeString()}.`);
      const outcome = await change.outcome;
      say(outcome === 'confirmed' ? 'The new network settings are kept.' : `${interrupted ? 'Interrupted: t' : 'T'}he previous network settings are back.`);
      return outcome === 'confirmed' ? 0 : 1;
    } finally {
      for (const sig of INTERRUPTS) signals.off(sig, onInterrupt);
    }
  } catch (err) {
    say((err as Error).message);
    return 1;
  } finally {
    rl.close();
  }
}
