// `mailmoat network-sync [--data DIR]`, run as root by mailmoat-apply-system whenever the daemon's
// system files change: makes networkd's files follow the network trial the console recorded
// (system/network-trial.ts: a pending trial as runtime candidates, a confirmed one persistent, a
// reverted one gone), checking every value itself, and says what it did.
import path from 'node:path';
import { NETWORK_DIRS } from '../console/set-network.ts';
import { syncNetwork } from '../system/network-trial.ts';

const USAGE = 'usage: mailmoat network-sync [--data DIR]';

export async function run(args: string[]): Promise<number> {
  let data = '/var/lib/mailmoat';
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--data' && args[i + 1]) data = args[++i];
    else { console.error(`mailmoat network-sync: unknown argument ${args[i]}\n${USAGE}`); return 2; }
  }
  const done = await syncNetwork({ systemDir: path.join(data, 'system'), ...NETWORK_DIRS });
  for (const line of done) console.log(line);
  return done.some((l) => l.includes('refused')) ? 1 : 0;
}
