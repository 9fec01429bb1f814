// `mailmoat start [--config FILE | --seed-config FILE] [--data DIR] [--appliance]`: runs the daemon
// in the foreground until SIGTERM or SIGINT, then stops cleanly (stop accepting, finish sessions,
// close the store). --config replaces the stored configuration (configuration as code);
// --seed-config only fills an empty store (first boot); --appliance turns on the image's system
// integration (snmpd/rsyslog settings files, SNMP subagent). --ready-file names a file written once
// every listener (SMTP, console, local API) accepts connections, and removed on stop: the image's
// unit waits for it, so systemd (and anything ordered after the daemon) sees "active" only when
// the box really answers. (sd_notify needs a unix datagram socket, which Node cannot open.)
// A restore uploaded in the console restarts the appliance in this process, which swaps it in.
import { rm, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { startAppliance } from '../main.ts';

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      'seed-config': { type: 'string' },
      data: { type: 'string', default: './data' },
      appliance: { type: 'boolean', default: false },
      'ready-file': { type: 'string' },
    },
    strict: true,
  });
  if (values.config && values['seed-config']) throw new Error('give either --config or --seed-config, not both');
  const readyFile = values['ready-file'];
  const signal = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  for (;;) {
    let restoreStaged!: () => void;
    const restart = new Promise<'restart'>((resolve) => { restoreStaged = () => resolve('restart'); });
    const appliance = await startAppliance({
      dataDir: values.data!,
      configFile: values.config ?? values['seed-config'],
      seedOnly: Boolean(values['seed-config']),
      appliance: values.appliance,
      onRestoreStaged: restoreStaged,
    });
    if (readyFile) {
      // The pid, then the ports the daemon answers on: the boot's health check (slot-check) probes them.
      const { inbound, console: web } = appliance.config.current.listeners;
      await writeFile(readyFile, `${process.pid}\nsmtp ${inbound.port}\nconsole ${web.port}\n`).catch(async (err: Error) => {
        await appliance.stop();
        throw new Error(`cannot write the readiness file ${readyFile}: ${err.message}`);
      });
    }
    console.log(`mailmoat: running (data in ${values.data})`);
    const why = await Promise.race([restart, signal]);
    console.log(why === 'restart' ? 'mailmoat: restarting to apply the restored backup' : `mailmoat: ${why} received, stopping`);
    if (why !== 'restart' && readyFile) await rm(readyFile, { force: true });
    await appliance.stop();
    if (why !== 'restart') break;
  }
  console.log('mailmoat: stopped');
  return 0;
}
