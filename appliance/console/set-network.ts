// The menu's "set network" dialogue, run as root (`mailmoat menu set-network` through a sudo rule
// for exactly that command): asks for one interface's DHCP or static settings, applies them with
// appliance/system/network.ts, and rolls them back unless the admin confirms within a minute —
// so a wrong address cannot lock the box out of its network for good.
import { readdir } from 'node:fs/promises';
import readline from 'node:readline/promises';
import { changeNetwork, validateInterface, type InterfaceSettings } from '../system/network.ts';
import type { MenuIo } from './menu.ts';

export const NETWORK_DIR = '/etc/systemd/network';
const CONFIRM_SECONDS = 60;

export async function runSetNetwork(io: MenuIo, dir = NETWORK_DIR, apply?: (interfaces: string[]) => Promise<void>): Promise<number> {
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
    const change = await changeNetwork({ dir, settings: [settings], confirmSeconds: CONFIRM_SECONDS, apply });
    say(`Applied to ${name}. Type "keep" within ${CONFIRM_SECONDS} s to keep it; otherwise the previous settings come back.`);
    const answer = await Promise.race([ask('Keep? '), change.outcome.then(() => null)]);
    if (answer === 'keep') change.confirm();
    else if (answer !== null) say(`Not confirmed: rolling back at ${change.revertAt.toLocaleTimeString()}.`);
    const outcome = await change.outcome;
    say(outcome === 'confirmed' ? 'The new network settings are kept.' : 'The previous network settings are back.');
    return outcome === 'confirmed' ? 0 : 1;
  } catch (err) {
    say((err as Error).message);
    return 1;
  } finally {
    rl.close();
  }
}
