// The appliance image, built and booted for real: scripts/build-image.sh makes the disk, QEMU
// (TCG: KVM is not usable on these machines) boots it under UEFI and under legacy BIOS with the
// image opened snapshot=on, and everything is checked from the host through the serial console
// and forwarded ports on 127.0.0.1 (SMTP, the console's HTTPS, SNMP over UDP). The guest's only
// way out is a guestfwd to an SMTP sink here. The BIOS boot runs a copy of the disk whose data
// filesystem was filled past the disk watcher's warning threshold before boot (debugfs fallocate:
// the guest has no root shell to fill it from), and checks the warning in the journal, the menu
// and SNMP; it runs in its own network namespace, as UDP forwards need (see vm.ts).
// Set MAILMOAT_IMAGE_REUSE=1 to boot the image already in dist/ instead of building a new one.
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { freePort, Vm } from './vm.ts';

const project = path.resolve(import.meta.dirname, '../..');
const dist = path.join(project, 'dist');
const version = JSON.parse(readFileSync(path.join(project, 'package.json'), 'utf8')).version as string;
const name = `mailmoat-${version}-amd64`;
const BOOT_MS = 6 * 60_000;

const MAILMOAT_OID = '.1.3.6.1.4.1.99999';

function artifact(ext: string): string {
  return path.join(dist, `${name}.${ext}`);
}

test.serial('the build makes a compressed raw image, a qcow2 and an OVA', async (t) => {
  t.timeout(30 * 60_000);
  const reuse = process.env.MAILMOAT_IMAGE_REUSE === '1' && existsSync(artifact('raw'));
  if (!reuse) {
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn('bash', [path.join(project, 'scripts/build-image.sh')], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (d) => t.log(String(d).trimEnd()));
      child.stderr.on('data', (d) => t.log(String(d).trimEnd()));
      child.on('exit', resolve);
    });
    t.is(code, 0, 'scripts/build-image.sh failed');
  }
  for (const ext of ['img.zst', 'qcow2', 'ova', 'raw']) t.true(existsSync(artifact(ext)), `${name}.${ext} is missing`);
  const compressedMB = statSync(artifact('img.zst')).size / 1e6;
  t.log(`compressed raw image: ${compressedMB.toFixed(0)} MB; qcow2: ${(statSync(artifact('qcow2')).size / 1e6).toFixed(0)} MB; ` +
    `OVA: ${(statSync(artifact('ova')).size / 1e6).toFixed(0)} MB`);
  t.true(compressedMB < 350, `the compressed image is ${compressedMB.toFixed(0)} MB, over the 350 MB aim`);
  // An OVA is a tar whose first member is the OVF descriptor, followed by the disk and a manifest.
  const members = execFileSync('tar', ['-tf', artifact('ova')], { encoding: 'utf8' }).trim().split('\n');
  t.deepEqual(members, [`${name}.ovf`, `${name}-disk1.vmdk`, `${name}.mf`]);
  // The partition table: BIOS boot, ESP, root, data — data last so it can grow.
  const table = JSON.parse(execFileSync('sfdisk', ['--json', artifact('raw')], { encoding: 'utf8' })).partitiontable;
  t.is(table.label, 'gpt');
  t.deepEqual(table.partitions.map((p: { name: string }) => p.name), ['bios-boot', 'esp', 'mailmoat-root', 'mailmoat-data']);
});

const seedConfig = (hostname: string) => `
hostname: ${hostname}
listeners:
  inbound: { port: 25 }
  submission: { port: 587 }
  console: { port: 443 }
tls:
  certFile: /var/lib/mailmoat/tls/cert.pem
  keyFile: /var/lib/mailmoat/tls/key.pem
domains:
  - name: example.com
    routes: [{ host: 10.0.2.100, port: 2525, tls: none }]
system:
  snmp:
    communities: [{ name: mmtest }]
`;

/** Parses the boot report the image writes to the serial console. */
function bootReport(serial: string): { units: Map<string, string>; failed: string; text: string } {
  const m = /==== Mailmoat boot report ====\n([\s\S]*?)==== end of boot report ====/.exec(serial);
  if (!m) throw new Error('no boot report on the serial console');
  const units = new Map<string, string>();
  for (const line of m[1].split('\n')) {
    const u = /^unit (\S+)\s+(.+)$/.exec(line);
    if (u) units.set(u[1], u[2].trim());
  }
  return { units, failed: /failed units: (.*)/.exec(m[1])?.[1].trim() ?? '?', text: m[1] };
}

/**
 * A pattern for text read off the serial console, which now and then shows a character twice
 * ("Maail"): every character of `text` may repeat.
 */
function loose(text: string): RegExp {
  return new RegExp([...text].map((c) => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&') + '+').join(''));
}

/** Retries `probe` every 3 s until it returns a value (services may still be starting). */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s (${last})`);
    await new Promise((r) => setTimeout(r, 3000));
  }
}

/** HTTPS to the console through the forwarded port (its certificate is the box's self-signed one). */
function consoleRequest(port: number, method: string, route: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request({ host: '127.0.0.1', port, method, path: route, rejectUnauthorized: false, timeout: 30_000,
      headers: payload ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}

/** snmpwalk/snmpget of the box through the forwarded UDP port (the seeded community), numeric OIDs. */
function snmp(vm: Vm, tool: 'snmpwalk' | 'snmpget', port: number, ...oids: string[]): Promise<string> {
  return vm.run(tool, ['-v2c', '-c', 'mmtest', '-On', '-t', '5', '-r', '1', `127.0.0.1:${port}`, ...oids]);
}

test.serial('UEFI boot: services active, SMTP relays to the host, the console answers, serial menu shows status', async (t) => {
  t.timeout(BOOT_MS + 6 * 60_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-vm-'));
  const received: string[] = [];
  const sink = new SMTPServer({
    authOptional: true, disabledCommands: ['AUTH', 'STARTTLS'], logger: false,
    onData(stream, session, callback) {
      let text = '';
      stream.on('data', (d) => (text += d));
      stream.on('end', () => { received.push(`RCPT ${session.envelope.rcptTo.map((r) => r.address).join(',')}\n${text}`); callback(); });
    },
  });
  const [sinkPort, smtpPort, httpsPort] = [await freePort(), await freePort(), await freePort()];
  await new Promise<void>((resolve) => sink.listen(sinkPort, '127.0.0.1', resolve));
  const vm = new Vm({
    image: artifact('qcow2'), firmware: 'uefi', dir,
    tcpForwards: { 25: smtpPort, 443: httpsPort },
    guestForwards: [{ guestPort: 2525, hostPort: sinkPort }],
    seedConfig: seedConfig('mailmoat.test'),
  });
  const started = Date.now();
  try {
    vm.start();
    await vm.waitForSerial(/==== end of boot report ====/, BOOT_MS);
    t.log(`boot report after ${((Date.now() - started) / 1000).toFixed(0)} s (UEFI, TCG)`);
    const report = bootReport(vm.serial());
    t.log(report.text);
    for (const unit of ['systemd-networkd', 'systemd-resolved', 'chrony', 'clamav-daemon', 'snmpd', 'rsyslog',
      'mailmoat-firstboot', 'mailmoat-grow-data', 'mailmoat']) {
      t.is(report.units.get(unit), 'active/success', `${unit} is not active`);
    }
    t.is(report.failed, 'none');
    t.regex(report.text, /^root filesystem: ro$/m, 'the root filesystem is not mounted read-only');
    const refused = report.text.split('\n').filter((l) => l.includes('refused write:'));
    if (refused.length) t.log(`writes the read-only root refused:\n${refused.join('\n')}`);
    const setupCode = /setup code: (\d{4}-\d{4})/.exec(report.text)?.[1];
    t.truthy(setupCode, 'the boot report shows no setup code');

    // SMTP: a message for a configured domain is relayed through the image to the sink here.
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true, connectionTimeout: 60_000, greetingTimeout: 60_000 });
    // The daemon (Type=simple) may still be starting when systemd reports the boot finished:
    // until it listens, the forwarded port closes at once. Retry until it answers.
    const message = { from: 'sender@sender.example', to: 'user@example.com', subject: 'through the image', text: 'hello from the host' };
    let info: { response: string } | undefined;
    for (let attempt = 1; !info; attempt++) {
      try {
        info = await transport.sendMail(message);
      } catch (err) {
        if ((err as { code?: string }).code !== 'ECONNECTION' || attempt === 60) throw err;
        await new Promise((r) => setTimeout(r, 3000));
      }
    }
    t.regex(info.response, /^250/);
    for (let i = 0; i < 240 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 500));
    t.is(received.length, 1, 'the sink on the host received nothing');
    t.regex(received[0], /RCPT user@example\.com/);
    t.regex(received[0], /hello from the host/);

    // The web console over HTTPS (443 in the guest): in setup mode it serves the wizard, and the
    // setup code from the console claims it.
    const status = await until('the console answering on 443', async () => (await consoleRequest(httpsPort, 'GET', '/api/status')));
    t.is(status.status, 200);
    t.is(JSON.parse(status.text).setup, true);
    const page = await consoleRequest(httpsPort, 'GET', '/');
    t.is(page.status, 200);
    t.regex(page.text, /<script[^>]+app\.js/);
    t.is((await consoleRequest(httpsPort, 'POST', '/api/setup/claim', { code: '0000-0000' })).status, 401);
    const claim = await consoleRequest(httpsPort, 'POST', '/api/setup/claim', { code: setupCode });
    t.is(claim.status, 200, claim.text);
    t.truthy(JSON.parse(claim.text).csrfToken);


    // The serial console: the maintenance user's login shell is the menu, opening on the status.
    const mark = vm.serial().length;
    await vm.type('\n');
    await vm.waitForSerial(/login: *$/m, 60_000, mark);
    await vm.type('maint\n');
    const screen = await vm.waitForSerial(/Mailmoat maintenance[\s\S]*?Choose/, 120_000, mark);
    t.regex(screen[0], /mailmoat\.service\s+active/);
    t.regex(screen[0], /10\.0\.2\.15/);
    // Mail figures come from the daemon's local API socket.
    t.regex(screen[0], loose('Queue: 0 message(s)'));
    t.regex(screen[0], loose('Mail counted: received 1,'));
    t.regex(screen[0], /\/var\/lib\/mailmoat\s+[\d.]+ %\s+ok/);
    const mark2 = vm.serial().length;
    await vm.type('3\n');
    await vm.waitForSerial(loose(`Setup code: ${setupCode}\n`), 60_000, mark2);
  } finally {
    await vm.stop();
    sink.close();
    t.log(`serial log kept: ${vm.serialLog}`);
    if (!process.env.MAILMOAT_KEEP_VM_DIR) rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * A copy of the raw disk whose data filesystem is `percent` % used before boot: a root-owned
 * file with blocks allocated (not written) by debugfs, which needs no mount.
 */
function diskFilledTo(dir: string, percent: number): string {
  const disk = path.join(dir, 'filled.raw');
  execFileSync('cp', ['--sparse=always', artifact('raw'), disk]);
  const data = JSON.parse(execFileSync('sfdisk', ['--json', disk], { encoding: 'utf8' })).partitiontable.partitions[3];
  const fs = `${disk}?offset=${data.start * 512}`;
  const stats = execFileSync('debugfs', ['-R', 'stats', fs], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(stats)![1]);
  const blocks = field('Block count');
  const ballast = Math.floor(blocks * percent / 100) - (blocks - field('Free blocks'));
  writeFileSync(path.join(dir, 'fill.debugfs'), `write /dev/null ballast\nfallocate /ballast 0 ${ballast - 1}\n`);
  execFileSync('debugfs', ['-w', '-f', path.join(dir, 'fill.debugfs'), fs], { stdio: 'ignore' });
  return disk;
}

test.serial('legacy BIOS boot, data partition 85 % full: SNMP walk over UDP, the disk watcher warns (journal, SNMP, menu)', async (t) => {
  t.timeout(BOOT_MS + 4 * 60_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-vm-'));
  const snmpPort = await freePort();
  const vm = new Vm({ image: diskFilledTo(dir, 85), firmware: 'bios', dir, udpForwards: { 161: snmpPort }, isolatedNetwork: true,
    seedConfig: seedConfig('mailmoat-bios.test') });
  const started = Date.now();
  try {
    vm.start();
    await vm.waitForSerial(/==== end of boot report ====/, BOOT_MS);
    t.log(`boot report after ${((Date.now() - started) / 1000).toFixed(0)} s (BIOS, TCG)`);
    const report = bootReport(vm.serial());
    t.is(report.units.get('mailmoat-firstboot'), 'active/success');
    t.is(report.units.get('mailmoat'), 'active/success');
    t.regex(vm.serial(), /GNU GRUB|Mailmoat/);

    // The menu's status shows the data filesystem at the warning level (from the daemon's watcher,
    // through its local API socket: ask again until the daemon, still starting after the boot
    // report, answers)...
    const mark = vm.serial().length;
    await vm.type('\n');
    await vm.waitForSerial(/login: *$/m, 60_000, mark);
    await vm.type('maint\n');
    let screen = await vm.waitForSerial(/Mailmoat maintenance[\s\S]*?Choose/, 120_000, mark);
    for (let i = 0; i < 40 && !/Disks:/.test(screen[0]); i++) {
      await new Promise((r) => setTimeout(r, 3000));
      const again = vm.serial().length;
      await vm.type('1\n');
      screen = await vm.waitForSerial(/Host:[\s\S]*?Choose/, 60_000, again);
    }
    const percent = Number(/\/var\/lib\/mailmoat\s+([\d.]+) %\s+warning/.exec(screen[0])?.[1]);
    t.true(percent >= 80 && percent < 95, `the menu shows the data filesystem at ${percent} %, not at the warning level`);
    // ...the warning is in the journal (item 5 shows the daemon's warnings first)...
    const mark2 = vm.serial().length;
    await vm.type('5\n');
    await vm.waitForSerial(/Choose 0-11/, 60_000, mark2);
    t.regex(vm.serial().slice(mark2), /mailmoat: disk warning: the data filesystem \(\/var\/lib\/mailmoat\) is [\d.]+ % full \(warning at 80 %\)/);
    // ...and SNMP over UDP: snmpd answers the seeded community, the daemon's subagent serves the
    // Mailmoat subtree, and it shows the warning: mmDiskState warning(2), mmDiskDataPercent >= 80.
    t.regex(await until('snmpd over UDP', () => snmp(vm, 'snmpget', snmpPort, '.1.3.6.1.2.1.1.1.0')), /Mailmoat email filtering appliance/);
    const walk = await until('the Mailmoat subtree over SNMP', async () => {
      const out = await snmp(vm, 'snmpwalk', snmpPort, MAILMOAT_OID);
      return out.includes(`${MAILMOAT_OID}.1.4.1.2.`) && out.includes(`${MAILMOAT_OID}.1.3.4.0 = INTEGER: 2\n`) ? out : undefined;
    });
    t.log(`SNMP walk of the Mailmoat subtree: ${walk.trim().split('\n').length} values`);
    t.regex(walk, /\.1\.3\.6\.1\.4\.1\.99999\.1\.1\.1\.0 = Counter32: 0\n/, 'mmMessagesIn');
    t.true(Number(/\.1\.3\.3\.0 = Gauge32: (\d+)/.exec(walk)?.[1]) >= 80, 'mmDiskDataPercent');
    t.regex(walk, /\.1\.3\.6\.1\.4\.1\.99999\.1\.4\.1\.2\.\d+ = STRING: "mailmoat"/);
    t.regex(walk, /\.1\.3\.6\.1\.4\.1\.99999\.1\.4\.1\.3\.\d+ = INTEGER: 1\n/, 'a service in state active(1)');
  } finally {
    await vm.stop();
    if (!process.env.MAILMOAT_KEEP_VM_DIR) rmSync(dir, { recursive: true, force: true });
  }
});
