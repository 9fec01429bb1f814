// `mailmoat start [--config FILE] [--data DIR]`: runs the appliance daemon in the foreground
// until SIGTERM or SIGINT, then stops cleanly (stop accepting, finish sessions, close the store).
import { parseArgs } from 'node:util';
import { startAppliance } from '../main.ts';

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string' }, data: { type: 'string', default: './data' } },
    strict: true,
  });
  const appliance = await startAppliance({ dataDir: values.data!, configFile: values.config });
  console.log(`mailmoat: running (data in ${values.data})`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      console.log(`mailmoat: ${signal} received, stopping`);
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await appliance.stop();
  console.log('mailmoat: stopped');
  return 0;
}
