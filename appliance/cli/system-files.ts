// `mailmoat system-files --config FILE --out DIR`: writes the system daemons' settings files
// (snmpd.conf, rsyslog-remote.conf, os.conf) from a configuration file. The image's first boot
// runs it on the seed configuration so that the host name, time zone, NTP servers, SNMP access and
// remote syslog are right before snmpd, rsyslog and chrony first start; afterwards the daemon
// keeps the same files in step with its configuration.
import { ConfigError, readConfigFile } from '../config/config-service.ts';
import { upgradeStoredConfig } from '../config/upgrade.ts';
import { validateConfig } from '../config/validate.ts';
import { writeSystemConfigFiles } from '../system/system-config-files.ts';

const USAGE = 'usage: mailmoat system-files --config FILE --out DIR';

export async function run(args: string[]): Promise<number> {
  let file: string | undefined;
  let out: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--config' && args[i + 1]) file = args[++i];
    else if (args[i] === '--out' && args[i + 1]) out = args[++i];
    else { console.error(`mailmoat system-files: unknown argument ${args[i]}\n${USAGE}`); return 2; }
  }
  if (!file || !out) { console.error(USAGE); return 2; }
  const result = validateConfig(upgradeStoredConfig(await readConfigFile(file)).document);
  if (!result.ok) { console.error(new ConfigError(file, result.problems).message); return 1; }
  const written = await writeSystemConfigFiles(out, result.config);
  console.log(written.length ? `written: ${written.join(', ')}` : 'unchanged');
  return 0;
}
