// `mailmoat menu`: the maintenance menu on the serial console and screen (the `maint` user's
// login shell on the appliance). `mailmoat menu set-network` is the menu's network dialogue,
// which the menu runs as root through a sudo rule for exactly that command.
import { runMenu } from '../console/menu.ts';
import { runSetNetwork } from '../console/set-network.ts';

export async function run(args: string[]): Promise<number> {
  const io = { input: process.stdin, output: process.stdout };
  if (args[0] === 'set-network') return runSetNetwork(io);
  if (args.length) throw new Error(`unknown argument "${args[0]}": use "mailmoat menu" or "mailmoat menu set-network"`);
  return runMenu(io);
}
