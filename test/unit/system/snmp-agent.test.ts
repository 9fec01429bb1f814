// The SNMP subagent against a real snmpd (net-snmp's daemon, started by the test as the AgentX
// master on loopback ports) and read with the real snmpwalk: the Mailmoat subtree answers with the
// daemon's numbers (freshclam's failed checks and the tagged count among them), and a disk trap
// reaches a trap receiver through snmpd. The MIB file defines every object the subagent serves, at
// the OID it serves it.
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { SnmpSubagent, type MailmoatStats } from '../../../appliance/system/snmp-agent.ts';
import { readFileSync } from 'node:fs';
import { MAILMOAT_OID, SCALARS, TRAPS } from '../../../appliance/system/snmp-mib.ts';
import { renderSnmpd } from '../../../appliance/system/system-config-files.ts';
import { freshclamFigures } from '../../../appliance/system/system-services.ts';

const run = promisify(execFile);

async function freePort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (ok) return port;
  }
}

const stats: MailmoatStats = {
  messagesIn: 1234, messagesOut: 1200, spam: 30, virus: 2, quarantined: 25, rejected: 7, authFailures: 42, tagged: 17,
  queueLength: 3, queueOldestAgeSeconds: 95, quarantineBytes: 10 * 1024 * 1024,
  diskSystemPercent: 41, diskDataPercent: 83, diskState: 'warning',
  services: [{ name: 'mailmoat', state: 'active' }, { name: 'clamav-daemon', state: 'failed' }],
  signatures: { version: 27470, ageSeconds: 200_000 },
  freshclam: { failuresInARow: 3, lastFailureAgeSeconds: 3600 },
};

test('freshclam\'s log status becomes the MIB\'s figures', (t) => {
  const now = Date.parse('2026-11-30T12:00:00Z');
  t.deepEqual(freshclamFigures({ failuresInARow: 2, failingLong: false, failingSince: '2026-11-30T10:00:00.000Z', lastFailureAt: '2026-11-30T11:00:00.000Z' }, now),
    { failuresInARow: 2, lastFailureAgeSeconds: 3600 });
  t.deepEqual(freshclamFigures({ failuresInARow: 0, failingLong: false }, now), { failuresInARow: 0 }, 'no failure logged: the MIB says 4294967295');
});

test('the MIB file defines each object the subagent serves under the OID it serves it at', (t) => {
  const mib = readFileSync(new URL('../../../mibs/MAILMOAT-MIB.txt', import.meta.url), 'utf8');
  // The parents of the scalars' subtrees, as the MIB names them (mmObjects is mailmoat 1).
  const parents: Record<string, string> = { 1: 'mmMail', 2: 'mmQueue', 3: 'mmStorage', 6: 'mmAntivirus' };
  for (const [name, s] of Object.entries(SCALARS)) {
    const [group, arc] = s.oid.slice(`${MAILMOAT_OID}.1.`.length).split('.');
    t.regex(mib, new RegExp(`\\n${name} OBJECT-TYPE\\n(?:(?!OBJECT-TYPE)[\\s\\S])*?::= \\{ ${parents[group]} ${arc} \\}`), name);
    t.true(new RegExp(`mmObjectGroup OBJECT-GROUP\\s+OBJECTS \\{[^}]*\\b${name}\\b`).test(mib), `${name} is in mmObjectGroup`);
  }
});

test('snmpwalk of the Mailmoat subtree answers through snmpd, and traps are forwarded', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-snmpd-'));
  const [snmpPort, agentxPort, trapPort] = [await freePort(), await freePort(), await freePort()];
  // The received traps: a plain UDP socket is enough to see the trap OID and message in the PDU.
  const traps: Buffer[] = [];
  const receiver = dgram.createSocket('udp4');
  receiver.on('message', (msg) => traps.push(msg));
  await new Promise<void>((resolve) => receiver.bind(trapPort, '127.0.0.1', resolve));
  writeFileSync(path.join(dir, 'snmpd.conf'), [
    `agentaddress udp:127.0.0.1:${snmpPort}`,
    'master agentx',
    `agentXSocket tcp:127.0.0.1:${agentxPort}`,
    // The same renderer writes the box's access settings.
    renderSnmpd({ communities: [{ name: 'mmtest', source: '127.0.0.1' }], users: [], trapSinks: [{ host: '127.0.0.1', port: trapPort, community: 'mmtest' }], agentxPort, queueBacklogTrap: 1000 }),
  ].join('\n'));
  const snmpd = spawn('snmpd', ['-f', '-Lo', '-C', '-c', path.join(dir, 'snmpd.conf'), '-p', path.join(dir, 'snmpd.pid')], {
    env: { ...process.env, SNMP_PERSISTENT_DIR: dir, MIBS: '' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let snmpdLog = '';
  snmpd.stdout.on('data', (d) => (snmpdLog += d));
  snmpd.stderr.on('data', (d) => (snmpdLog += d));
  const agent = new SnmpSubagent({ masterPort: agentxPort, getStats: () => stats, reconnectSeconds: 1 });
  try {
    // A trap raised before the AgentX session exists (a disk warning at boot) is held, not lost.
    const early = agent.trap('diskThreshold', 'raised before snmpd was connected');
    // snmpd takes a moment to listen; the subagent reconnects until it does.
    await agent.start();
    t.true(await early, 'the trap raised before registration was not sent');
    t.true(agent.ready);
    const { stdout } = await run('snmpwalk', ['-v2c', '-c', 'mmtest', '-On', '-t', '5', `127.0.0.1:${snmpPort}`, `.${MAILMOAT_OID}`]);
    const values = new Map(stdout.trim().split('\n').map((l) => {
      const [oid, value] = l.split(' = ');
      return [oid, value] as const;
    }));
    t.is(values.get(`.${MAILMOAT_OID}.1.1.1.0`), 'Counter32: 1234');
    t.is(values.get(`.${MAILMOAT_OID}.1.1.6.0`), 'Counter32: 7');
    t.is(values.get(`.${MAILMOAT_OID}.1.1.7.0`), 'Counter32: 42');
    t.is(values.get(`.${MAILMOAT_OID}.1.2.2.0`), 'Gauge32: 95');
    t.is(values.get(`.${MAILMOAT_OID}.1.3.1.0`), 'Gauge32: 10240');
    t.is(values.get(`.${MAILMOAT_OID}.1.3.3.0`), 'Gauge32: 83');
    t.is(values.get(`.${MAILMOAT_OID}.1.3.4.0`), 'INTEGER: 2');
    t.is(values.get(`.${MAILMOAT_OID}.1.4.1.2.2`), 'STRING: "clamav-daemon"');
    t.is(values.get(`.${MAILMOAT_OID}.1.4.1.3.2`), 'INTEGER: 3');
    t.is(values.get(`.${MAILMOAT_OID}.1.6.1.0`), 'Gauge32: 27470');
    t.is(values.get(`.${MAILMOAT_OID}.1.6.2.0`), 'Gauge32: 200000');
    t.is(values.get(`.${MAILMOAT_OID}.1.1.8.0`), 'Counter32: 17', 'mmTagged');
    t.is(values.get(`.${MAILMOAT_OID}.1.6.3.0`), 'Gauge32: 3', 'mmFreshclamFailures');
    t.is(values.get(`.${MAILMOAT_OID}.1.6.4.0`), 'Gauge32: 3600', 'mmFreshclamLastFailureAge');

    // freshclam working again with no failure left in its log: 0 and "none".
    stats.freshclam = { failuresInARow: 0 };
    await agent.refresh();
    const fresh = await run('snmpget', ['-v2c', '-c', 'mmtest', '-On', `127.0.0.1:${snmpPort}`, `.${MAILMOAT_OID}.1.6.3.0`, `.${MAILMOAT_OID}.1.6.4.0`]);
    t.regex(fresh.stdout, /\.1\.6\.3\.0 = Gauge32: 0\n/);
    t.regex(fresh.stdout, /\.1\.6\.4\.0 = Gauge32: 4294967295/);

    // New numbers show after a refresh.
    stats.messagesIn = 1240;
    await agent.refresh();
    const again = await run('snmpget', ['-v2c', '-c', 'mmtest', '-On', `127.0.0.1:${snmpPort}`, `.${MAILMOAT_OID}.1.1.1.0`]);
    t.regex(again.stdout, /Counter32: 1240/);

    // A wrong community gets nothing.
    await t.throwsAsync(run('snmpget', ['-v2c', '-c', 'wrong', '-On', '-t', '1', '-r', '0', `127.0.0.1:${snmpPort}`, `.${MAILMOAT_OID}.1.1.1.0`]));

    t.true(await agent.trap('diskThreshold', 'the data filesystem is 83 % full'));
    // snmpd sends its own coldStart trap too: look for ours among them.
    const trapOid = Buffer.from(TRAPS.diskThreshold.split('.').slice(2).map(Number).flatMap((n) => n < 128 ? [n] : [0x80 | (n >> 14), 0x80 | ((n >> 7) & 0x7f), n & 0x7f]));
    const ours = () => traps.filter((pdu) => pdu.includes(trapOid));
    for (let i = 0; i < 100 && ours().length < 2; i++) await sleep(100);
    t.is(ours().length, 2, 'snmpd did not forward both mmDiskThreshold traps');
    t.true(ours().some((pdu) => pdu.includes(Buffer.from('raised before snmpd was connected'))));
    t.true(ours().some((pdu) => pdu.includes(Buffer.from('the data filesystem is 83 % full'))));

    t.true(await agent.trap('signaturesStale', 'virus signatures are 2.3 days old'));
    const staleOid = Buffer.from(TRAPS.signaturesStale.split('.').slice(2).map(Number).flatMap((n) => n < 128 ? [n] : [0x80 | (n >> 14), 0x80 | ((n >> 7) & 0x7f), n & 0x7f]));
    const stale = () => traps.filter((pdu) => pdu.includes(staleOid) && pdu.includes(Buffer.from('virus signatures are 2.3 days old')));
    for (let i = 0; i < 100 && stale().length === 0; i++) await sleep(100);
    t.is(stale().length, 1, 'snmpd forwarded no mmSignaturesStale trap');
  } catch (err) {
    t.log(snmpdLog);
    throw err;
  } finally {
    await agent.stop();
    receiver.close();
    if (snmpd.pid) process.kill(snmpd.pid);
    await new Promise((resolve) => snmpd.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
});
