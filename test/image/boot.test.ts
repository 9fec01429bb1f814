// The appliance image, built and booted for real: scripts/build-image.sh makes the disk, QEMU
// (TCG: KVM is not usable on these machines) boots it under UEFI and under legacy BIOS with the
// image opened snapshot=on, and everything is checked from the host through the serial console
// and forwarded ports on 127.0.0.1. The guest's only way out is a guestfwd to an SMTP sink here.
// Set MAILMOAT_IMAGE_REUSE=1 to boot the image already in dist/ instead of building a new one.
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
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

test.serial('UEFI boot: services active, SMTP relays to the host, serial menu shows status', async (t) => {
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
    t.regex(report.text, /setup code: \d{4}-\d{4}/);

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

    // The serial console: the maintenance user's login shell is the menu, opening on the status.
    const mark = vm.serial().length;
    await vm.type('\n');
    await vm.waitForSerial(/login: *$/m, 60_000, mark);
    await vm.type('maint\n');
    const status = await vm.waitForSerial(/Mailmoat maintenance[\s\S]*?Choose/, 120_000, mark);
    t.regex(status[0], /mailmoat\.service\s+active/);
    t.regex(status[0], /10\.0\.2\.15/);
  } finally {
    await vm.stop();
    sink.close();
    t.log(`serial log kept: ${vm.serialLog}`);
    if (!process.env.MAILMOAT_KEEP_VM_DIR) rmSync(dir, { recursive: true, force: true });
  }
});

test.serial('legacy BIOS boot of the same disk reaches the boot report', async (t) => {
  t.timeout(BOOT_MS + 2 * 60_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-vm-'));
  const vm = new Vm({ image: artifact('raw'), firmware: 'bios', dir });
  const started = Date.now();
  try {
    vm.start();
    await vm.waitForSerial(/==== end of boot report ====/, BOOT_MS);
    t.log(`boot report after ${((Date.now() - started) / 1000).toFixed(0)} s (BIOS, TCG)`);
    const report = bootReport(vm.serial());
    t.is(report.units.get('mailmoat-firstboot'), 'active/success');
    t.regex(vm.serial(), /GNU GRUB|Mailmoat/);
  } finally {
    await vm.stop();
    if (!process.env.MAILMOAT_KEEP_VM_DIR) rmSync(dir, { recursive: true, force: true });
  }
});
