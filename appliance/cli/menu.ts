// `mailmoat menu`: the maintenance menu on the serial console and screen (the `maint` user's
// login shell on the appliance).
import { runMenu } from '../console/menu.ts';

export async function run(): Promise<number> {
  return runMenu({ input: process.stdin, output: process.stdout });
}
