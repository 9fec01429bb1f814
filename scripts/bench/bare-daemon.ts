// The daemon with its filtering pipeline replaced by "deliver every recipient" — the bare mail
// path (SMTP session, durable spool + queue record, message log, delivery), which the daemon's own
// CLI has no switch for. Same composition root as `mailmoat start`, only `filter` differs (the
// integration tests of the mail path do the same). Web console off, no starter model.
//   node scripts/bench/bare-daemon.ts --config FILE --data DIR
import { parseArgs } from 'node:util';
import { startAppliance } from '../../appliance/main.ts';
import { deliverAll } from '../../appliance/accept/message-filter.ts';

const { values } = parseArgs({ options: { config: { type: 'string' }, data: { type: 'string' } }, strict: true });
const appliance = await startAppliance({ dataDir: values.data!, configFile: values.config, filter: deliverAll, console: false, starterModel: false });
const signal = await new Promise<string>((resolve) => {
  process.once('SIGTERM', () => resolve('SIGTERM'));
  process.once('SIGINT', () => resolve('SIGINT'));
});
console.log(`bare daemon: ${signal}, stopping`);
await appliance.stop();
