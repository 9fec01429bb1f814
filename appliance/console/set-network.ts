// The menu's "set network" dialogue, run as root (`mailmoat menu set-network` through a sudo rule
// for exactly that command): asks for one interface's DHCP or static settings, applies them with
// appliance/system/network.ts as a runtime candidate, and makes them persistent only when the
// admin types "keep" within a minute — so a wrong address cannot lock the box out of its network
// for good. Ctrl-C, a hang-up or a stop during the window rolls back at once; a reset or power
// loss leaves the candidate behind in /run, which the next boot does not have.
// After a rollback the dialogue waits (bounded) until the interface has an IPv4 address other than
// the one tried: networkd returns from a reconfigure before a DHCP lease is back, and "the previous
// settings are back" should be true when the menu draws the status next (halfway through the wait
// it has networkd apply them once more: addressBack).
import { execFile } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import readline from 'node:readline/promises';
import { changeNetwork, networkctlApply, validateInterface, type InterfaceSettings, type NetworkChange } from '../system/network.ts';
import type { MenuIo } from './menu.ts';

export const NETWORK_DIRS = { dir: '/etc/systemd/network', runtimeDir: '/run/systemd/network' };
const CONFIRM_SECONDS = 60;
/** How long a rollback waits for the interface's previous IPv4 address (a DHCP server may never answer). */
const ADDRESS_WAIT_MS = 45_000;
const INTERRUPTS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface SetNetworkOptions {
  /** networkd's persistent and runtime directories (default NETWORK_DIRS). */
  dirs?: { dir: string; runtimeDir: string };
  apply?: (interfaces: string[]) => Promise<void>;
  /** Where the interrupting signals arrive (default: this process). */
  signals?: Pick<EventEmitter, 'on' | 'off'>;
  /** The interface's global IPv4 addresses now (default: from `ip`). */
  addresses?: (iface: string) => Promise<string[]>;
  /** How long a rollback waits for an address (default 45 s). */
  addressWaitMs?: number;
}

/** An interface's global IPv4 addresses, as `ip` lists them (none when it cannot say). */
export async function ipv4Addresses(iface: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('ip', ['-json', '-4', 'address', 'show', 'dev', iface, 'scope', 'global']);
  const links = JSON.parse(stdout || '[]') as { addr_info?: { local?: string }[] }[];
  return links.flatMap((l) => (l.addr_info ?? []).map((a) => a.local ?? '')).filter(Boolean);
}

/**
 * Waits until `iface` has an IPv4 address other than `tried`; whether it came within `ms`. Halfway
 * without one it has networkd apply the settings once more: a rollback right after the change was
 * applied can reach networkd while it still configures the tried address, and under emulation its
 * DHCP client was seen not to start again then (the image test's UEFI boot, Ctrl-C at "Keep?").
 */
async function addressBack(addresses: (iface: string) => Promise<string[]>, iface: string, tried: string | undefined, ms: number,
  reapply: () => Promise<void>): Promise<boolean> {
  const start = Date.now();
  let reapplied = false;
  for (;;) {
    const now = await addresses(iface).catch(() => [] as string[]);
    if (now.some((a) => a !== tried)) return true;
    const waited = Date.now() - start;
    if (waited >= ms) return false;
    if (!reapplied && waited >= ms / 2) {
      reapplied = true;
      await reapply().catch(() => {});
    }
    await sleep(500);
  }
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
    // Ctrl-C comes from the admin at the console, who reads on; a hang-up or a stop has nobody to tell.
    let readerLeft = false;
    const handlers = INTERRUPTS.map((sig) => [sig, () => {
      interrupted = true;
      readerLeft ||= sig !== 'SIGINT';
      void change?.revert();
    }] as const);
    for (const [sig, handler] of handlers) signals.on(sig, handler);
    try {
      change = await changeNetwork({ ...(o.dirs ?? NETWORK_DIRS), settings: [settings], confirmSeconds: CONFIRM_SECONDS, apply: o.apply });
      if (interrupted) await change.revert();
      else say(`Applied to ${name}. Type "keep" within ${CONFIRM_SECONDS} s to keep it; otherwise the previous settings come back.`);
      const answer = interrupted ? null : await Promise.race([ask('Keep? '), change.outcome.then(() => null)]);
      if (answer === 'keep') await change.confirm().catch((err: Error) => say(err.message));
      else if (answer !== null) say(`Not confirmed: rolling back at ${change.revertAt.toLocaleTimeString()}.`);
      const outcome = await change.outcome;
      if (outcome === 'confirmed') {
        say('The new network settings are kept.');
        return 0;
      }
      const wait = o.addressWaitMs ?? ADDRESS_WAIT_MS;
      if (!readerLeft) say(`Rolled back; waiting up to ${Math.round(wait / 1000)} s for ${name}'s previous address...`);
      const tried = settings.mode === 'static' ? settings.address : undefined;
      const back = readerLeft || await addressBack(o.addresses ?? ipv4Addresses, name, tried, wait, () => (o.apply ?? networkctlApply)([name]));
      say(back ? `${interrupted ? 'Interrupted: t' : 'T'}he previous network settings are back.`
        : `The previous network settings are back, but ${name} has no IPv4 address yet (with DHCP, the server has not answered): see the status.`);
      return 1;
    } finally {
      for (const [sig, handler] of handlers) signals.off(sig, handler);
    }
  } catch (err) {
    say((err as Error).message);
    return 1;
  } finally {
    rl.close();
  }
}
