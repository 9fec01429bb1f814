// The appliance image, built and booted for real: scripts/build-image.sh makes the disk, QEMU
// (TCG: KVM is not usable on these machines) boots it under UEFI and under legacy BIOS with the
// image opened snapshot=on, and everything is checked from the host through the serial console
// and forwarded ports on 127.0.0.1 (SMTP, the console's HTTPS, SNMP over UDP). The guest's only
// way out is a guestfwd to an SMTP sink here. The BIOS boot runs a copy of the disk whose data
// filesystem was filled past the disk watcher's warning threshold before boot (debugfs fallocate:
// the guest has no root shell to fill it from), and checks the warning in the journal, the menu
// and SNMP; it runs in its own network namespace, as UDP forwards need (see vm.ts).
// Waits are for readiness, never for time: the daemon's unit turns active only once it answers
// (its readiness file), the boot report follows that, and every wait has one generous named bound
// that prints what was seen when it expires. Facts (counts, percentages, states) are read from
// machine-readable sources — the console API over HTTPS and SNMP; the serial screen is checked
// only for what only it shows, matched tolerantly (see `loose` in vm.ts).
// Set MAILMOAT_IMAGE_REUSE=1 to boot the image already in dist/ instead of building a new one.
import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { startSink } from '../helpers/smtp-sink.ts';
import { developmentKeys, derivedBundle, extractBundle } from './bundles.ts';
import { freePort, loose, loosePart, Vm } from './vm.ts';

const project = path.resolve(import.meta.dirname, '../..');
const dist = path.join(project, 'dist');
const version = JSON.parse(readFileSync(path.join(project, 'package.json'), 'utf8')).version as string;
const name = `mailmoat-${version}-amd64`;
// One generous bound for a boot to its report (the daemon ready included): about 1–2 minutes on a
// quiet 2-core machine under TCG, several times that when other work shares the cores.
const BOOT_MS = 12 * 60_000;

const MAILMOAT_OID = '.1.3.6.1.4.1.99999';

/**
 * The setup code in a boot report. The serial line now and then doubles a character ("setup
 * ccode" was seen), so the label is matched loosely; the code itself must read exactly (four
 * digits, a dash, four digits): a doubled digit there gives no code, and the test says so.
 */
function setupCodeIn(text: string): string | undefined {
  return new RegExp(`${loosePart('setup code:')}\\s*(\\d{4}-\\d{4})\\b`).exec(text)?.[1];
}

function artifact(ext: string): string {
  return path.join(dist, `${name}.${ext}`);
}

test.serial('the build makes a compressed raw image, a qcow2, an OVA and a signed update bundle', async (t) => {
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
  for (const ext of ['img.zst', 'qcow2', 'ova', 'raw', 'raucb']) t.true(existsSync(artifact(ext)), `${name}.${ext} is missing`);
  const compressedMB = statSync(artifact('img.zst')).size / 1e6;
  t.log(`compressed raw image: ${compressedMB.toFixed(0)} MB; qcow2: ${(statSync(artifact('qcow2')).size / 1e6).toFixed(0)} MB; ` +
    `OVA: ${(statSync(artifact('ova')).size / 1e6).toFixed(0)} MB; update bundle: ${(statSync(artifact('raucb')).size / 1e6).toFixed(0)} MB`);
  t.true(compressedMB < 250, `the compressed image (two system slots) is ${compressedMB.toFixed(0)} MB, over the 250 MB aim`);
  // The bundle is signed by the build's key (the development key unless one was given) for this
  // appliance only, and carries the system filesystem.
  const info = execFileSync('rauc', ['info', `--keyring=${developmentKeys(project).cert}`, '--output-format=shell', artifact('raucb')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  t.regex(info, /^RAUC_MF_COMPATIBLE='mailmoat-amd64'$/m);
  t.regex(info, new RegExp(`^RAUC_MF_VERSION='${version.replace(/\./g, '\\.')}'$`, 'm'));
  t.regex(info, /^RAUC_IMAGE_CLASS_0='rootfs'$/m);
  // An OVA is a tar whose first member is the OVF descriptor, followed by the disk and a manifest.
  const members = execFileSync('tar', ['-tf', artifact('ova')], { encoding: 'utf8' }).trim().split('\n');
  t.deepEqual(members, [`${name}.ovf`, `${name}-disk1.vmdk`, `${name}.mf`]);
  // The partition table: BIOS boot, ESP, the two system slots of equal size, data — data last so
  // it can grow.
  const table = JSON.parse(execFileSync('sfdisk', ['--json', artifact('raw')], { encoding: 'utf8' })).partitiontable;
  t.is(table.label, 'gpt');
  t.deepEqual(table.partitions.map((p: { name: string }) => p.name), ['bios-boot', 'esp', 'mailmoat-root-a', 'mailmoat-root-b', 'mailmoat-data']);
  t.is(table.partitions[2].size, table.partitions[3].size);
  // GRUB's menu and the boot-slot state are on the ESP (read with mtools, which needs no mount).
  const esp = `${artifact('raw')}@@${table.partitions[1].start * 512}`;
  const mtype = (file: string) => execFileSync('mtype', ['-i', esp, file], { encoding: 'latin1', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
  const grubCfg = mtype('::/grub/grub.cfg');
  // GRUB boots without a password but asks for one before an entry or its kernel command line can be edited.
  t.regex(grubCfg, /^set superusers="root"$/m);
  t.regex(grubCfg, /^password_pbkdf2 root grub\.pbkdf2\.sha512\.\d+\.[0-9A-F]+\.[0-9A-F]+$/m, 'GRUB has no password');
  t.regex(grubCfg, /^menuentry "Mailmoat \(system A\)" --unrestricted --id slotA \{$/m);
  t.regex(grubCfg, /^menuentry "Mailmoat \(system B\)" --unrestricted --id slotB \{$/m);
  // Each slot's kernel finds its root by its own partition UUID.
  for (const [i, slot] of [[2, 'A'], [3, 'B']] as const) {
    t.regex(grubCfg, new RegExp(`root=PARTUUID=${table.partitions[i].uuid} rauc\\.slot=${slot} `, 'i'));
  }
  // The factory state: slot A good and first, slot B empty. GRUB rewrites the block in place, so it is whole.
  const grubenv = mtype('::/grub/grubenv');
  t.is(grubenv.length, 1024);
  t.regex(grubenv, /^ORDER=A B$/m);
  t.regex(grubenv, /^A_OK=1$/m);
  t.regex(grubenv, /^B_OK=0$/m);
});

const seedConfig = (hostname: string, more: { time?: string; syslog?: string } = {}) => `
hostname: ${hostname}
${more.time ?? ''}
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
${more.syslog ?? ''}
`;

/**
 * The boot report's end on the serial console. Like everything read off it, any character may show
 * more than once ("aactive/success" was seen in a unit's state), so the report is read loosely.
 */
const REPORT_END = loose('==== end of boot report ====');

/** Runs of one character as one, so that a name read off the serial console finds its entry. */
const squeeze = (text: string) => text.replace(/(.)\1+/gs, '$1');

/** Whether a value read off the serial console is `expected`, any character possibly repeated. */
function reads(value: string | undefined, expected: string): boolean {
  return value !== undefined && new RegExp(`^${loosePart(expected)}$`).test(value);
}

/** A whole line of the boot report, read loosely. */
const reportLine = (text: string) => new RegExp(`^${loosePart(text)}$`, 'm');
/** The report's "mailmoat ready: N s after boot" line (N in the first group). */
const READY = new RegExp(`^${loosePart('mailmoat ready:')}\\s*(\\d+)\\s+${loosePart('s after boot')}$`, 'm');

/** Parses the boot report the image writes to the serial console. */
function bootReport(serial: string): { units: Map<string, string>; failed: string; text: string } {
  const m = new RegExp(`${loosePart('==== Mailmoat boot report ====')}\\n([\\s\\S]*?)${REPORT_END.source}`).exec(serial);
  if (!m) throw new Error('no boot report on the serial console');
  const units = new Map<string, string>();
  for (const line of m[1].split('\n')) {
    const u = /^u+n+i+t+\s+(\S+)\s+(.+)$/.exec(line);
    if (u) units.set(squeeze(u[1]), u[2].trim());
  }
  return { units, failed: new RegExp(`${loosePart('failed units:')}\\s*(.*)`).exec(m[1])?.[1].trim() ?? '?', text: m[1] };
}

/** A unit's state in the report ("active/success", as read). */
function unitState(report: ReturnType<typeof bootReport>, unit: string): string {
  return report.units.get(squeeze(unit)) ?? 'missing';
}

function unitActive(t: ExecutionContext, report: ReturnType<typeof bootReport>, unit: string): void {
  const state = unitState(report, unit);
  t.true(reads(state, 'active/success'), `${unit} is not active: ${state}`);
}

/**
 * The daemon's unit is active. A restart during boot is logged with the reason the boot report
 * quotes rather than failed here: the daemon has been seen to abort in V8 now and then at start
 * (issue 18, item 6, open), and systemd's restart is what the box relies on meanwhile.
 */
function daemonActive(t: ExecutionContext, report: ReturnType<typeof bootReport>): void {
  const state = unitState(report, 'mailmoat');
  t.regex(state, new RegExp(`^${loosePart('active/success')}(${loosePart(' restarted-')}\\d+${loosePart('-times')})?$`), `mailmoat is not active: ${state}`);
  if (state.includes('restarted')) {
    t.log(`the daemon was restarted during boot (${state}):\n${report.text.split('\n').filter((l) => l.includes('mailmoat restart:')).join('\n')}`);
  }
}

/**
 * Logs in as maint on the serial console and returns the menu's status screen once it shows the
 * daemon's figures. The daemon is ready (it listens), but under emulation on a loaded host it may
 * not answer the menu within the menu's 15 s: then the menu says so, and item 1 draws it again.
 */
async function menuStatus(t: ExecutionContext, vm: Vm, o: { loggedIn?: boolean } = {}): Promise<string> {
  const mark = vm.serial().length;
  if (o.loggedIn) {
    await vm.type('1\n');
  } else {
    await vm.type('\n');
    await vm.waitForSerial('the login prompt', /login: *$/m, 120_000, mark);
    await vm.type('maint\n');
  }
  // The menu is unlocked in setup mode; a first screen without the daemon's figures is locked.
  const drawn = (from: number) => vm.waitForSerial('the maintenance menu',
    new RegExp(`${loosePart('Host:')}[\\s\\S]*?(${loosePart('Choose 0-13:')}|${loosePart('Choose an item, or U to unlock:')})`), 120_000, from);
  let screen = (await drawn(mark))[0];
  const deadline = Date.now() + 5 * 60_000;
  for (let redraws = 0; loose('Mail status unavailable').test(screen); redraws++) {
    if (Date.now() > deadline) throw new Error(`the menu never showed the daemon's figures in 5 min (${redraws} redraws); last screen:\n${screen}`);
    t.log(`the menu could not reach the daemon yet; drawing the status again (${redraws + 1})`);
    const again = vm.serial().length;
    await vm.type('1\n');
    screen = (await drawn(again))[0];
  }
  return screen;
}

/**
 * From the menu, set network (item 11): a static 10.0.2.77/24 on `iface`, applied as a candidate;
 * returns when the dialogue asks whether to keep it.
 */
async function tryStaticAddress(vm: Vm, iface: string): Promise<void> {
  const steps: [string, string][] = [['Interface (', '11'], ['(dhcp/static):', iface], ['Address/prefix', 'static'],
    ['Gateway (empty: none):', '10.0.2.77/24'], ['DNS servers', '10.0.2.2'], ['Keep?', '10.0.2.3']];
  for (const [prompt, answer] of steps) {
    const mark = vm.serial().length;
    await vm.type(`${answer}\n`);
    // 5 min: a prompt came just after 2 min once, with both vCPUs on one host thread (vm.ts) and
    // other work on the cores.
    await vm.waitForSerial(`the network dialogue's "${prompt}"`, loose(prompt), 5 * 60_000, mark);
  }
}

/** The daemon's recent log lines, read on the serial console through the menu (item 5), for a failure message. */
async function daemonLog(vm: Vm): Promise<string> {
  try {
    const mark = vm.serial().length;
    await vm.type('\n');
    await vm.waitForSerial('the login prompt', /login: *$/m, 60_000, mark);
    await vm.type('maint\n');
    await vm.waitForSerial('the maintenance menu', /Choose/, 120_000, mark);
    const from = vm.serial().length;
    await vm.type('5\n');
    await vm.waitForSerial('the log lines', /Recent log lines[\s\S]*Choose/, 120_000, from);
    await vm.type('0\n');
    return vm.serial().slice(from);
  } catch (err) {
    return `(could not read it: ${(err as Error).message})`;
  }
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

/** The parts of GET /api/dashboard the image test reads. */
interface Dashboard {
  flow: { received: number; delivered: number };
  queue: { messages: number };
  services: { name: string; state: string }[];
  disks: { mount: string; state: string }[];
}

interface ConsoleReply { status: number; text: string; json<T>(): T; cookies: string[] }

/** HTTPS to the console through the forwarded port (its certificate is the box's self-signed one). */
function consoleRequest(port: number, method: string, route: string, body?: unknown, as?: { cookie: string; csrf: string }): Promise<ConsoleReply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = payload ? { 'content-type': 'application/json' } : {};
    if (as) Object.assign(headers, { cookie: as.cookie, 'x-csrf-token': as.csrf });
    const req = https.request({ host: '127.0.0.1', port, method, path: route, rejectUnauthorized: false, timeout: 60_000, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, json: <T>() => JSON.parse(text) as T,
        cookies: (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]) }));
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

/**
 * Ends a test's VM. When the test failed (a wait ran out, or an assertion did not hold), its log
 * gets what the guest showed (`Vm.evidence`: the serial console's last lines, the vCPUs, the screen)
 * before the VM is stopped. Returns whether the VM's directory is to be kept (serial log and screen
 * picture): after a failure, or when MAILMOAT_KEEP_VM_DIR is set.
 */
async function endVm(t: ExecutionContext, vm: Vm, dir: string, threw: boolean): Promise<boolean> {
  for (const rescue of vm.rescues) t.log(`the firmware stalled before GRUB's menu (an emulator hang, see vm.ts): ${rescue}`);
  const failed = threw || !t.passed;
  if (failed) t.log(`what the guest showed when the test failed:\n${await vm.evidence()}`);
  await vm.stop();
  const keep = failed || Boolean(process.env.MAILMOAT_KEEP_VM_DIR);
  if (keep) t.log(`VM directory kept: ${dir} (serial log: ${vm.serialLog})`);
  return keep;
}

test.serial('UEFI boot: services active, SMTP relays to the host, the console answers, serial menu shows status, an unconfirmed network change reverts after Ctrl-C and after a reset', async (t) => {
  t.timeout(2 * BOOT_MS + 10 * 60_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-vm-'));
  const [sinkPort, smtpPort, httpsPort] = [await freePort(), await freePort(), await freePort()];
  const sink = await startSink({ port: sinkPort });
  const vm = new Vm({
    image: artifact('qcow2'), firmware: 'uefi', dir,
    tcpForwards: { 25: smtpPort, 443: httpsPort },
    guestForwards: [{ guestPort: 2525, hostPort: sinkPort }],
    seedConfig: seedConfig('mailmoat.test'),
  });
  const started = Date.now();
  let threw = false;
  try {
    vm.start();
    await vm.waitForSerial('the boot report', REPORT_END, BOOT_MS);
    t.log(`boot report after ${((Date.now() - started) / 1000).toFixed(0)} s (UEFI, TCG)`);
    const report = bootReport(vm.serial());
    t.log(report.text);
    for (const unit of ['systemd-networkd', 'systemd-resolved', 'chrony', 'clamav-daemon', 'snmpd', 'rsyslog',
      'mailmoat-firstboot', 'mailmoat-grow-data', 'mailmoat-system-boot']) {
      unitActive(t, report, unit);
    }
    daemonActive(t, report);
    t.true(reads(report.failed, 'none'), `failed units: ${report.failed}`);
    t.regex(report.text, reportLine('root filesystem: ro'), 'the root filesystem is not mounted read-only');
    t.regex(report.text, READY, 'the daemon never reported ready');
    t.log(`boot to mail (daemon ready, guest clock): ${READY.exec(report.text)?.[1]} s`);
    const refused = report.text.split('\n').filter((l) => l.includes('refused write:'));
    if (refused.length) t.log(`writes the read-only root refused:\n${refused.join('\n')}`);
    const setupCode = setupCodeIn(report.text);
    t.truthy(setupCode, 'the boot report shows no setup code');

    // SMTP: the unit is active only once the daemon listens, so the first attempt must succeed.
    // A message for a configured domain is relayed through the image to the sink here.
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true, connectionTimeout: 60_000, greetingTimeout: 60_000 });
    const info = await transport.sendMail({ from: 'sender@sender.example', to: 'user@example.com', subject: 'through the image', text: 'hello from the host' })
      .catch(async (err: Error) => { throw new Error(`SMTP through the image failed (${err.message}); the daemon's log:\n${await daemonLog(vm)}`); });
    t.regex(info.response, /^250/);
    const [relayed, ...more] = await sink.waitFor(1, 180_000);
    t.is(more.length, 0);
    t.deepEqual(relayed.to, ['user@example.com']);
    t.regex(relayed.raw.toString(), /hello from the host/);

    // The web console over HTTPS (443 in the guest): in setup mode it serves the wizard, and the
    // setup code from the console claims it.
    const status = await consoleRequest(httpsPort, 'GET', '/api/status');
    t.is(status.status, 200);
    t.is(status.json<{ setup: boolean }>().setup, true);
    const page = await consoleRequest(httpsPort, 'GET', '/');
    t.is(page.status, 200);
    t.regex(page.text, /<script[^>]+app\.js/);
    // The Lit bundle itself, built by the image build from the working tree (not a stale copy).
    const bundle = await consoleRequest(httpsPort, 'GET', '/app.js');
    t.is(bundle.status, 200);
    t.true(bundle.text.includes('litElementVersions') && bundle.text.includes('mm-app'), 'the console serves no Lit bundle');
    t.is((await consoleRequest(httpsPort, 'POST', '/api/setup/claim', { code: '0000-0000' })).status, 401);
    const claim = await consoleRequest(httpsPort, 'POST', '/api/setup/claim', { code: setupCode });
    t.is(claim.status, 200, claim.text);
    const wizard = { cookie: claim.cookies.join('; '), csrf: claim.json<{ csrfToken: string }>().csrfToken };
    t.truthy(wizard.csrf);

    // The serial console: the maintenance user's login shell is the menu, opening on the status.
    const screen = await menuStatus(t, vm);
    t.regex(screen, new RegExp(`${loosePart('mailmoat.service')}\\s+${loosePart('active')}`));
    t.regex(screen, loose('10.0.2.15'));
    // Mail figures come from the daemon's local API socket.
    t.regex(screen, loose('Mail counted: received'));
    t.regex(screen, loose('open https://10.0.2.15/ and enter the setup code'), 'the menu does not name the console\'s address');
    const mark2 = vm.serial().length;
    await vm.type('3\n');
    await vm.waitForSerial('the setup code on the menu', loose(`Setup code: ${setupCode}`), 120_000, mark2);

    // Set network (item 11), interrupted: a static address is tried, then Ctrl-C at "Keep?" brings
    // the previous settings (DHCP, 10.0.2.15) back at once...
    const iface = new RegExp(`^${loosePart('address')}\\s+(\\S+)\\s+${loosePart('10.0.2.15/')}`, 'm').exec(report.text)?.[1];
    t.truthy(iface, 'the boot report shows no interface with 10.0.2.15');
    await tryStaticAddress(vm, iface!);
    const mark3 = vm.serial().length;
    await vm.type('\x03');
    // The menu takes the terminal back only once the dialogue has ended: wait for its prompt. The
    // dialogue waits up to 45 s for the previous (DHCP) address before it says the settings are
    // back ("Interrupted: the previous…", or "The previous… but … no IPv4 address yet").
    await vm.waitForSerial('the rollback after Ctrl-C, then the menu',
      new RegExp(`${loosePart('previous network settings are back')}[\\s\\S]*${loosePart('Choose 0-13:')}`), 180_000, mark3);
    // Should the lease take longer than the dialogue waits, the status is drawn again (bounded)
    // until the address shows.
    let afterCtrlC = await menuStatus(t, vm, { loggedIn: true });
    for (let redraws = 1; !loose('10.0.2.15').test(afterCtrlC) && redraws <= 12; redraws++) {
      t.log(`after Ctrl-C the DHCP address is not back yet; drawing the status again in 10 s (${redraws})`);
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      afterCtrlC = await menuStatus(t, vm, { loggedIn: true });
    }
    t.regex(afterCtrlC, loose('10.0.2.15'));
    t.notRegex(afterCtrlC, loose('10.0.2.77'));
    // ...and a reset during the minute to confirm leaves the candidate behind in /run: the box
    // comes back with the previous settings (mail and the console below go through them).
    await tryStaticAddress(vm, iface!);
    const mark4 = vm.serial().length;
    await vm.qmp('system_reset');
    await vm.waitForSerial('the boot report after the reset', REPORT_END, BOOT_MS, mark4);
    const afterReset = bootReport(vm.serial().slice(mark4));
    t.regex(afterReset.text, reportLine(`address ${squeeze(iface!)} 10.0.2.15/24`), 'the address tried before the reset stayed');
    t.notRegex(afterReset.text, loose('10.0.2.77'));
    daemonActive(t, afterReset);

    // The wizard finishes over HTTPS; the new admin then reads the box's figures from the API.
    const finish = await consoleRequest(httpsPort, 'POST', '/api/setup/finish', {
      language: 'en', admin: { username: 'admin', password: 'a very long secret' }, hostname: 'mailmoat.test',
      timezone: 'Asia/Tokyo', ntpServers: ['ntp.example'], domain: { name: 'example.com', host: '10.0.2.100', port: 2525 },
      tls: { mode: 'generated' }, contact: 'postmaster@example.com',
    }, wizard);
    t.is(finish.status, 200, finish.text);
    const admin = { cookie: finish.cookies.join('; '), csrf: finish.json<{ csrfToken: string }>().csrfToken };
    const dashboard = (await consoleRequest(httpsPort, 'GET', '/api/dashboard', undefined, admin)).json<Dashboard>();
    t.is(dashboard.flow.received, 1, JSON.stringify(dashboard.flow));
    t.is(dashboard.flow.delivered, 1, JSON.stringify(dashboard.flow));
    t.is(dashboard.queue.messages, 0, JSON.stringify(dashboard.queue));
    t.is(dashboard.services.find((u) => u.name === 'mailmoat')?.state, 'running', JSON.stringify(dashboard.services));
    const data = dashboard.disks.find((f) => f.mount === '/var/lib/mailmoat');
    t.is(data?.state, 'ok', JSON.stringify(dashboard.disks));
    t.is((await consoleRequest(httpsPort, 'GET', '/api/status')).json<{ setup: boolean }>().setup, false);
  } catch (err) {
    threw = true;
    throw err;
  } finally {
    if (!await endVm(t, vm, dir, threw)) rmSync(dir, { recursive: true, force: true });
    await sink.stop();
  }
});

/**
 * A copy of the raw disk whose data filesystem is `percent` % used before boot: a root-owned
 * file with blocks allocated (not written) by debugfs, which needs no mount.
 */
function diskFilledTo(dir: string, percent: number): string {
  const disk = path.join(dir, 'filled.raw');
  execFileSync('cp', ['--sparse=always', artifact('raw'), disk]);
  const data = JSON.parse(execFileSync('sfdisk', ['--json', disk], { encoding: 'utf8' })).partitiontable.partitions[4];
  const fs = `${disk}?offset=${data.start * 512}`;
  const stats = execFileSync('debugfs', ['-R', 'stats', fs], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(stats)![1]);
  const blocks = field('Block count');
  const ballast = Math.floor(blocks * percent / 100) - (blocks - field('Free blocks'));
  writeFileSync(path.join(dir, 'fill.debugfs'), `write /dev/null ballast\nfallocate /ballast 0 ${ballast - 1}\n`);
  execFileSync('debugfs', ['-w', '-f', path.join(dir, 'fill.debugfs'), fs], { stdio: 'ignore' });
  return disk;
}

test.serial('legacy BIOS boot, data partition 85 % full: SNMP walk over UDP, the disk watcher warns (journal, SNMP, menu, remote syslog), the OS follows the configuration, factory reset', async (t) => {
  t.timeout(2 * BOOT_MS + 8 * 60_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-vm-'));
  const snmpPort = await freePort();
  // Remote syslog over TCP to a listener here, through a unix socket (the VM runs in its own
  // network namespace, which a loopback port here would not be reachable from).
  let syslog = '';
  const syslogSocket = path.join(dir, 'syslog.sock');
  const syslogServer = net.createServer((c) => c.on('data', (d) => (syslog += d)));
  await new Promise<void>((resolve) => syslogServer.listen(syslogSocket, resolve));
  const vm = new Vm({ image: diskFilledTo(dir, 85), firmware: 'bios', dir, udpForwards: { 161: snmpPort }, isolatedNetwork: true,
    guestForwards: [{ guestPort: 5514, hostSocket: syslogSocket }],
    seedConfig: seedConfig('mailmoat-bios.test', {
      time: 'time: { timezone: Asia/Tokyo, ntpServers: [ntp1.example, 192.0.2.123] }',
      syslog: '  syslog:\n    remote: [{ host: 10.0.2.100, port: 5514, protocol: tcp }]',
    }) });
  const started = Date.now();
  let threw = false;
  try {
    vm.start();
    await vm.waitForSerial('the boot report', REPORT_END, BOOT_MS);
    t.log(`boot report after ${((Date.now() - started) / 1000).toFixed(0)} s (BIOS, TCG)`);
    const report = bootReport(vm.serial());
    unitActive(t, report, 'mailmoat-firstboot');
    daemonActive(t, report);
    t.regex(report.text, READY, 'the daemon never reported ready');
    t.log(`boot to mail (daemon ready, guest clock): ${READY.exec(report.text)?.[1]} s`);
    t.regex(vm.serial(), /GNU GRUB|Mailmoat/);
    // The OS follows the configuration from the first boot on: host name, time zone, NTP servers.
    t.regex(report.text, reportLine('host name: mailmoat-bios.test'));
    t.regex(report.text, reportLine('time zone: Asia/Tokyo (JST +0900)'));
    t.regex(report.text, reportLine('NTP sources: ntp1.example 192.0.2.123'));

    // SNMP over UDP: snmpd answers the seeded community, the daemon's subagent serves the Mailmoat
    // subtree, and it shows the warning: mmDiskState warning(2), mmDiskDataPercent >= 80.
    t.regex(await until('snmpd over UDP', () => snmp(vm, 'snmpget', snmpPort, '.1.3.6.1.2.1.1.1.0')), /Mailmoat email filtering appliance/);
    const walk = await until('the Mailmoat subtree over SNMP', async () => {
      const out = await snmp(vm, 'snmpwalk', snmpPort, MAILMOAT_OID);
      return out.includes(`${MAILMOAT_OID}.1.4.1.2.`) ? out : undefined;
    });
    t.log(`SNMP walk of the Mailmoat subtree: ${walk.trim().split('\n').length} values`);
    t.regex(walk, /\.1\.3\.6\.1\.4\.1\.99999\.1\.1\.1\.0 = Counter32: 0\n/, 'mmMessagesIn');
    t.regex(walk, /\.1\.3\.6\.1\.4\.1\.99999\.1\.3\.4\.0 = INTEGER: 2\n/, 'mmDiskState is not warning(2)');
    const percent = Number(/\.1\.3\.3\.0 = Gauge32: (\d+)/.exec(walk)?.[1]);
    t.true(percent >= 80 && percent < 95, `mmDiskDataPercent is ${percent}, not at the warning level`);
    t.regex(walk, /\.1\.3\.6\.1\.4\.1\.99999\.1\.4\.1\.2\.\d+ = STRING: "mailmoat"/);
    t.regex(walk, /\.1\.3\.6\.1\.4\.1\.99999\.1\.4\.1\.3\.\d+ = INTEGER: 1\n/, 'a service in state active(1)');
    t.regex(await snmp(vm, 'snmpget', snmpPort, '.1.3.6.1.2.1.1.5.0'), /STRING: "?mailmoat-bios\.test"?/, 'SNMP sysName is not the configured host name');

    // The warning raised during boot reached the remote syslog server (RFC 5424: the zone's
    // offset in the time stamp, the configured host name, then the application).
    const warned = await until('the boot-time disk warning at the remote syslog listener', async () => {
      // rsyslog is set to send the full name (preserveFQDN); the short one is accepted too.
      const line = /^.*\+09:00 mailmoat-bios(\.test)? mailmoat\b.*disk warning: .*$/m.exec(syslog)?.[0];
      if (!line) throw new Error(`not there yet; received ${syslog.length} bytes${syslog ? `, the last ones:\n${syslog.slice(-1500)}` : ''}`);
      return line;
    });
    t.log(`remote syslog: ${warned}`);

    // The menu's status shows the data filesystem at the warning level (the daemon is ready, so
    // its local API answers the first time the menu draws)...
    const screen = await menuStatus(t, vm);
    t.regex(screen, new RegExp(`${loosePart('/var/lib/mailmoat')}[\\s\\d.]+%\\s+${loosePart('warning')}`), 'the menu does not show the data filesystem at the warning level');
    // ...and the warning is in the journal (item 5 shows the daemon's warnings first).
    const mark2 = vm.serial().length;
    await vm.type('5\n');
    const log = (await vm.waitForSerial('the log lines on the menu', new RegExp(`${loosePart('Warnings and errors from the mailmoat daemon')}[\\s\\S]*?${loosePart('Choose 0-13:')}`), 120_000, mark2))[0];
    t.regex(log, new RegExp(`${loosePart('mailmoat: disk warning: the data filesystem (/var/lib/mailmoat) is')}[\\s\\d.]+${loosePart('% full (warning at 80 %)')}`));

    // Factory reset (item 8): the data partition is wiped early in the next boot, before anything
    // holds it, and the box comes back in setup mode with a new setup code and the ballast gone.
    const mark3 = vm.serial().length;
    await vm.type('8\n');
    await vm.waitForSerial('the factory reset confirmation', loose('anything else to cancel:'), 120_000, mark3);
    await vm.type('WIPE ALL DATA\n');
    await vm.waitForSerial('the boot report after the factory reset', REPORT_END, BOOT_MS, mark3);
    const afterReset = vm.serial().slice(mark3);
    t.regex(afterReset, loose('factory reset: the data partition was made anew'));
    const second = bootReport(afterReset);
    t.log(second.text);
    unitActive(t, second, 'mailmoat-firstboot');
    daemonActive(t, second);
    const newCode = setupCodeIn(second.text);
    t.truthy(newCode, 'no setup code after the factory reset');
    t.not(newCode, setupCodeIn(report.text), 'the setup code did not change');
    const walked = await until('the disk state after the factory reset', async () => {
      const out = await snmp(vm, 'snmpwalk', snmpPort, `${MAILMOAT_OID}.1.3`);
      return /\.1\.3\.4\.0 = INTEGER: 1\n/.test(out) ? out : undefined;
    });
    t.true(Number(/\.1\.3\.3\.0 = Gauge32: (\d+)/.exec(walked)?.[1]) < 80, 'the data partition is still full after the reset');
  } catch (err) {
    threw = true;
    throw err;
  } finally {
    syslogServer.close();
    // The filled copy of the disk is 3.6 GB: a kept directory keeps the rest.
    if (await endVm(t, vm, dir, threw)) rmSync(path.join(dir, 'filled.raw'), { force: true });
    else rmSync(dir, { recursive: true, force: true });
  }
});

/** Streams a bundle to POST /api/system/update (HTTPS through the forwarded port). */
function uploadBundle(port: number, file: string, as: { cookie: string; csrf: string }): Promise<ConsoleReply> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/system/update', rejectUnauthorized: false, timeout: 20 * 60_000,
      headers: { cookie: as.cookie, 'x-csrf-token': as.csrf, 'content-type': 'application/octet-stream', 'content-length': statSync(file).size } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, json: <T>() => JSON.parse(text) as T, cookies: [] }));
    });
    req.on('timeout', () => req.destroy(new Error('the upload timed out')));
    req.on('error', reject);
    createReadStream(file).pipe(req);
  });
}

interface UpdateStatusReply {
  booted: 'A' | 'B' | null;
  slots: { name: string; version: string | null; booted: boolean }[];
  lastCheck: { slot: string; result: string; reason?: string } | null;
  fallback: { from: string; reason: string } | null;
  install: { state: string; error?: string; slot?: string; version?: string | null; percent?: number } | null;
}

test.serial('A/B update: N installs N+1 from the API and reboots into it; a broken N+2 is rolled back to N+1 by itself, mail flowing and the quarantine intact', async (t) => {
  t.timeout(4 * BOOT_MS + 20 * 60_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-vm-'));
  // Removed at the end unless the VM's part failed (see endVm); the test bundles go either way.
  let keepDir = false;
  t.teardown(() => {
    if (keepDir) for (const bundle of ['next.raucb', 'broken.raucb']) rmSync(path.join(dir, bundle), { force: true });
    else rmSync(dir, { recursive: true, force: true });
  });
  // The bundles N+1 and N+2, from the build's own bundle N.
  const keys = developmentKeys(project);
  const bundleStarted = Date.now();
  extractBundle(artifact('raucb'), keys, path.join(dir, 'extracted'));
  const [next, broken] = [`${version}-update1`, `${version}-update2-broken`];
  derivedBundle(path.join(dir, 'extracted'), keys, dir, path.join(dir, 'next.raucb'), { version: next });
  derivedBundle(path.join(dir, 'extracted'), keys, dir, path.join(dir, 'broken.raucb'), { version: broken, breakDaemon: true });
  rmSync(path.join(dir, 'extracted'), { recursive: true, force: true });
  t.log(`test bundles N+1 and N+2 made in ${((Date.now() - bundleStarted) / 1000).toFixed(0)} s (${(statSync(path.join(dir, 'next.raucb')).size / 1e6).toFixed(0)} MB each)`);

  const [sinkPort, smtpPort, httpsPort] = [await freePort(), await freePort(), await freePort()];
  const sink = await startSink({ port: sinkPort });
  t.teardown(() => sink.stop());
  // Viruses are quarantined (and accepted with 250), so the quarantine has a message to keep.
  const seed = seedConfig('mailmoat-update.test') + 'filtering:\n  rules: [{ class: Virus, action: quarantine }]\n  quarantineResponse: accept\n';
  // The image on a bigger disk, as on a real box: the data partition grows at first boot and has
  // room for an uploaded bundle (the image's own 320 MiB does not).
  const disk = path.join(dir, 'disk.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', artifact('qcow2'), '-F', 'qcow2', disk, '8G']);
  const vm = new Vm({ image: disk, firmware: 'uefi', dir, tcpForwards: { 25: smtpPort, 443: httpsPort },
    guestForwards: [{ guestPort: 2525, hostPort: sinkPort }], seedConfig: seed });
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true, connectionTimeout: 60_000, greetingTimeout: 60_000 });
  /** A message through the box to the sink; resolves when it has arrived there. */
  const mailFlows = async (subject: string) => {
    const info = await transport.sendMail({ from: 'sender@sender.example', to: 'user@example.com', subject, text: subject });
    t.regex(info.response, /^250/);
    await until(`"${subject}" at the sink`, async () => (sink.messages.some((m) => m.raw.includes(subject)) ? true : undefined), 180_000);
  };
  let threw = false;
  const reportAfter = async (mark: number, what: string) => {
    await vm.waitForSerial(what, /==== end of boot report ====/, BOOT_MS, mark);
    return bootReport(vm.serial().slice(mark));
  };
  try {
    vm.start();
    // ---- N, booted from slot A
    const first = await reportAfter(0, 'the boot report of N');
    t.regex(first.text, new RegExp(`^system slot: A \\(${version.replace(/\./g, '\\.')}\\)$`, 'm'));
    t.regex(first.text, /^slot check: good$/m, 'the factory slot was not marked good');
    t.is(first.units.get('mailmoat-slot-check'), 'active/success');
    const machineId = /^machine id: ([0-9a-f]{32})$/m.exec(first.text)?.[1];
    t.truthy(machineId, 'the boot report shows no machine id');
    const setupCode = /setup code: (\d{4}-\d{4})/.exec(first.text)![1];
    const claim = await consoleRequest(httpsPort, 'POST', '/api/setup/claim', { code: setupCode });
    const wizard = { cookie: claim.cookies.join('; '), csrf: claim.json<{ csrfToken: string }>().csrfToken };
    const finish = await consoleRequest(httpsPort, 'POST', '/api/setup/finish', {
      language: 'en', admin: { username: 'admin', password: 'a very long secret' }, hostname: 'mailmoat-update.test',
      timezone: 'UTC', ntpServers: [], domain: { name: 'example.com', host: '10.0.2.100', port: 2525 },
      tls: { mode: 'generated' }, contact: 'postmaster@example.com',
    }, wizard);
    t.is(finish.status, 200, finish.text);
    const login = async () => {
      const res = await until('a console login', async () => {
        const r = await consoleRequest(httpsPort, 'POST', '/api/session', { username: 'admin', password: 'a very long secret' });
        return r.status === 200 ? r : undefined;
      });
      return { cookie: res.cookies.join('; '), csrf: res.json<{ csrfToken: string }>().csrfToken };
    };
    let admin = { cookie: finish.cookies.join('; '), csrf: finish.json<{ csrfToken: string }>().csrfToken };
    const updateStatus = async () => (await consoleRequest(httpsPort, 'GET', '/api/system/update', undefined, admin)).json<UpdateStatusReply>();
    t.like(await updateStatus(), { booted: 'A', lastCheck: { slot: 'A', result: 'good' }, fallback: null });
    await mailFlows('mail on N');
    // EICAR is quarantined (accepted with 250, held, not delivered).
    const eicar = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
    t.regex((await transport.sendMail({ from: 'sender@sender.example', to: 'user@example.com', subject: 'a virus to keep', text: 'see attachment',
      attachments: [{ filename: 'eicar.com', content: eicar }] })).response, /^250/);
    const quarantined = async () => (await consoleRequest(httpsPort, 'GET', '/api/quarantine', undefined, admin)).json<{ items: { subject?: string }[] }>().items;
    const held = await until('the virus in the quarantine', async () => { const items = await quarantined(); return items.length ? items : undefined; });
    t.is(held.length, 1);

    /** Uploads a bundle, waits until RAUC has installed it, asks for the reboot. */
    const install = async (bundle: string, expectSlot: 'A' | 'B', expectVersion: string) => {
      const upload = await uploadBundle(httpsPort, bundle, admin);
      t.is(upload.status, 202, upload.text);
      const done = await until('the install', async () => {
        const s = await updateStatus();
        return s.install?.state === 'installing' ? undefined : s.install;
      }, 20 * 60_000);
      t.like(done, { state: 'installed', slot: expectSlot, version: expectVersion }, JSON.stringify(done));
      const reboot = await consoleRequest(httpsPort, 'POST', '/api/system/update/reboot', undefined, admin);
      t.is(reboot.status, 200, reboot.text);
    };

    // ---- N+1 into slot B: upload to mail flowing on N+1
    const updateStarted = Date.now();
    const mark1 = vm.serial().length;
    await install(path.join(dir, 'next.raucb'), 'B', next);
    const installedAfter = (Date.now() - updateStarted) / 1000;
    const second = await reportAfter(mark1, 'the boot report of N+1');
    t.regex(second.text, new RegExp(`^system slot: B \\(${next.replace(/\./g, '\\.')}\\)$`, 'm'), second.text);
    t.regex(second.text, /^slot check: good$/m, second.text);
    t.regex(second.text, new RegExp(`^machine id: ${machineId}$`, 'm'), 'the machine id changed with the slot');
    daemonActive(t, second);
    admin = await login();
    await mailFlows('mail on N+1');
    const updateSeconds = (Date.now() - updateStarted) / 1000;
    t.log(`update N -> N+1: installed ${installedAfter.toFixed(0)} s after the upload began; mail flowing again on N+1 after ${updateSeconds.toFixed(0)} s`);
    const onNext = await updateStatus();
    t.like(onNext, { booted: 'B', lastCheck: { slot: 'B', result: 'good' }, fallback: null });
    t.like(onNext.slots[1], { name: 'B', version: next, booted: true });
    t.is((await quarantined()).length, 1, 'the quarantine changed with the update');

    // ---- the broken N+2 into slot A: its daemon never starts; the box returns to N+1 by itself
    await install(path.join(dir, 'broken.raucb'), 'A', broken);
    const rollbackStarted = Date.now();
    const mark2 = vm.serial().length;
    await vm.waitForSerial('the broken system marked bad', loose(`system A is not healthy`), BOOT_MS, mark2);
    const third = await reportAfter(mark2, 'the boot report after the fallback');
    t.regex(third.text, new RegExp(`^system slot: B \\(${next.replace(/\./g, '\\.')}\\)$`, 'm'), third.text);
    t.regex(third.text, new RegExp(`^machine id: ${machineId}$`, 'm'));
    daemonActive(t, third);
    admin = await login();
    await mailFlows('mail after the rollback');
    const rollbackSeconds = (Date.now() - rollbackStarted) / 1000;
    t.log(`rollback N+2 -> N+1: mail flowing again ${rollbackSeconds.toFixed(0)} s after the reboot into N+2 was asked for`);
    const after = await updateStatus();
    t.like(after, { booted: 'B', fallback: { from: 'A' } }, JSON.stringify(after));
    t.regex(after.fallback!.reason, /the daemon failed to start \d+ times/);
    t.like(after.slots[0], { name: 'A', version: broken, booted: false });
    const kept = await quarantined();
    t.is(kept.length, 1, 'the quarantine did not survive the updates');
    t.is(kept[0]!.subject, 'a virus to keep');
  } catch (err) {
    threw = true;
    throw err;
  } finally {
    keepDir = await endVm(t, vm, dir, threw);
  }
});
