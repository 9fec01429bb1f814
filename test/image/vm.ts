// A QEMU virtual machine booting the appliance image for the image tests: TCG (no KVM here),
// the image opened with snapshot=on so it stays pristine, a restricted user network with
// host forwards on 127.0.0.1 and a guestfwd to a sink on the host, the serial console recorded to
// a log file and reachable through a unix socket (to type into), and QMP for a clean power-down,
// resets, and what the guest shows when a test fails (see `evidence`).
// QEMU's restricted network drops every UDP packet from the guest (DHCP and DNS aside), so UDP
// forwards (SNMP) need an unrestricted network: such a VM runs in its own network namespace with
// only a loopback, which keeps the guest just as cut off, and the test reaches its forwarded ports
// with `vm.run()` (nsenter into that namespace).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';

export interface VmOptions {
  image: string;
  firmware: 'uefi' | 'bios';
  /** Working directory for the serial log, sockets and the firmware variables. */
  dir: string;
  /** Host port (127.0.0.1) for each guest TCP port, and UDP ports likewise. */
  tcpForwards?: Record<number, number>;
  udpForwards?: Record<number, number>;
  /**
   * The guest's 10.0.2.100:<guestPort> reaches 127.0.0.1:<hostPort> on the host, or a unix socket
   * on the host (which, unlike a loopback port, is reachable from an isolated network namespace).
   */
  guestForwards?: ({ guestPort: number; hostPort: number } | { guestPort: number; hostSocket: string })[];
  /** Configuration seed handed to first boot through fw_cfg (opt/mailmoat/config.yaml). */
  seedConfig?: string;
  /** Run in a private network namespace with an unrestricted user network (needed for UDP forwards). */
  isolatedNetwork?: boolean;
}

/**
 * The last lines a boot shows before GRUB's menu (the kernel's reset, OVMF's boot manager, GRUB's
 * greeting); GRUB draws its menu seconds after them. Under TCG, OVMF has been seen to stop there for
 * good (vCPU 0 busy in the firmware's event dispatch, the other halted: its timer no longer runs),
 * once in about ten UEFI boots, never on the same image twice: an emulator hang a real box's
 * firmware does not share, so a wait that sees no output for STALL_MS after one of these resets the VM.
 */
const BEFORE_MENU = /(reboot: Restarting system|BdsDxe: .*|Welcome to GRUB!)$/;
const STALL_MS = 3 * 60_000;
const MAX_RESCUES = 2;

export class Vm {
  readonly serialLog: string;
  /** The resets made for boots that stalled before GRUB's menu (see BEFORE_MENU), for the test's log. */
  readonly rescues: string[] = [];
  #options: VmOptions;
  #process: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  #serial: net.Socket | undefined;

  constructor(options: VmOptions) {
    this.#options = options;
    this.serialLog = path.join(options.dir, 'serial.log');
  }

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  start(): void {
    const o = this.#options;
    const format = o.image.endsWith('.qcow2') ? 'qcow2' : 'raw';
    const fwd = [
      ...Object.entries(o.tcpForwards ?? {}).map(([guest, host]) => `hostfwd=tcp:127.0.0.1:${host}-:${guest}`),
      ...Object.entries(o.udpForwards ?? {}).map(([guest, host]) => `hostfwd=udp:127.0.0.1:${host}-:${guest}`),
      ...(o.guestForwards ?? []).map((g) => `guestfwd=tcp:10.0.2.100:${g.guestPort}-cmd:socat - ` +
        ('hostSocket' in g ? `UNIX-CONNECT:${g.hostSocket}` : `TCP:127.0.0.1:${g.hostPort}`)),
    ];
    // One host thread runs both vCPUs (thread=single). With a thread per vCPU (MTTCG), QEMU 7.2
    // broke Node in the guest now and then: V8 aborted ("Check failed: it->second.Size() > offset"
    // in the stack walk of a WebAssembly tier-up) or segfaulted while Node stripped the daemon's
    // types, in 3 of 19 runs of that alone, with or without PKU in the guest CPU and with or
    // without the tier-up; 0 of 22 with thread=single, and 0 of 200 on the host's own CPU.
    // The daemon hit it at start in some boots and systemd restarted it (issue 18 item 6).
    const args = [
      '-machine', 'q35', '-accel', 'tcg,thread=single', '-cpu', 'max', '-smp', '2', '-m', '1024',
      '-drive', `file=${o.image},format=${format},if=virtio,snapshot=on`,
      '-netdev', [`user,id=n0,restrict=${o.isolatedNetwork ? 'off' : 'on'}`, ...fwd].join(','),
      '-device', 'virtio-net-pci,netdev=n0',
      '-chardev', `socket,id=ser0,path=${path.join(o.dir, 'serial.sock')},server=on,wait=off,logfile=${this.serialLog}`,
      '-serial', 'chardev:ser0',
      '-qmp', `unix:${path.join(o.dir, 'qmp.sock')},server=on,wait=off`,
      '-display', 'none',
    ];
    if (o.firmware === 'uefi') {
      const vars = path.join(o.dir, 'OVMF_VARS.fd');
      copyFileSync('/usr/share/OVMF/OVMF_VARS_4M.fd', vars);
      args.push('-drive', 'if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd',
        '-drive', `if=pflash,format=raw,file=${vars}`);
    }
    if (o.seedConfig !== undefined) {
      const seed = path.join(o.dir, 'seed-config.yaml');
      writeFileSync(seed, o.seedConfig);
      args.push('-fw_cfg', `name=opt/mailmoat/config.yaml,file=${seed}`);
    }
    writeFileSync(this.serialLog, '');
    const child = o.isolatedNetwork
      ? spawn('unshare', ['--net', '--', 'sh', '-c', 'ip link set lo up && exec qemu-system-x86_64 "$@"', 'qemu', ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    this.#exited = new Promise((resolve) => child.on('exit', () => resolve()));
    child.on('exit', (code) => {
      if (code) writeFileSync(path.join(o.dir, 'qemu-stderr.log'), stderr);
    });
    this.#process = child;
  }

  /** The serial console's output so far, without ANSI escapes and carriage returns. */
  serial(): string {
    return existsSync(this.serialLog) ? clean(readFileSync(this.serialLog, 'utf8')) : '';
  }

  /**
   * Waits until the serial output (after `from` characters) matches `pattern`; returns the match.
   * `what` names the wait: when the bound expires, the error says what was awaited and shows the
   * last output seen.
   */
  async waitForSerial(what: string, pattern: RegExp, timeoutMs: number, from = 0): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    let length = -1;
    let grew = Date.now();
    for (;;) {
      const whole = this.serial();
      const text = whole.slice(from);
      const m = pattern.exec(text);
      if (m) return m;
      if (whole.length !== length) {
        length = whole.length;
        grew = Date.now();
      } else if (Date.now() - grew > STALL_MS && this.rescues.length < MAX_RESCUES) {
        const last = whole.trimEnd().split('\n').pop()?.trim() ?? '';
        if (BEFORE_MENU.test(last)) {
          this.rescues.push(`while waiting for ${what}: no output for ${STALL_MS / 60_000} min after "${last}" ` +
            `(${await this.evidence().then((e) => e.split('\n').filter((l) => l.startsWith('vCPU')).join('; '))}); reset the VM`);
          await this.qmp('system_reset').catch((err: Error) => this.rescues.push(`the reset failed: ${err.message}`));
          grew = Date.now();
        }
      }
      if (this.#process?.exitCode !== null && this.#process?.exitCode !== undefined) {
        throw new Error(`QEMU exited (${this.#process.exitCode}) while waiting for ${what} (${pattern}); last output:\n${text.slice(-1500)}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`waited ${timeoutMs / 1000} s for ${what} (${pattern}) on the serial console; last output:\n${text.slice(-1500)}`);
      }
      await sleep(500);
    }
  }

  /** Runs a host command where the VM's forwarded ports are: in its namespace when isolated. */
  async run(command: string, args: string[]): Promise<string> {
    const pid = this.#process?.pid;
    const [cmd, argv] = this.#options.isolatedNetwork && pid ? ['nsenter', [`--net=/proc/${pid}/ns/net`, '--', command, ...args]] : [command, args];
    return (await promisify(execFile)(cmd, argv)).stdout;
  }

  /** Types on the serial console. */
  async type(text: string): Promise<void> {
    if (!this.#serial) {
      this.#serial = net.connect(path.join(this.#options.dir, 'serial.sock'));
      this.#serial.on('error', () => {});
      // Drain what the guest prints (the log file records it). A connected reader that does not
      // read fills the socket buffer; QEMU then fails the write with EAGAIN, still logs the
      // byte, and the UART sends it again: the log shows the character twice ("Chooose").
      this.#serial.resume();
      await new Promise((resolve) => this.#serial!.once('connect', resolve));
    }
    // Slowly: the guest's 16550 UART has a small FIFO.
    for (const ch of text) {
      this.#serial.write(ch);
      await sleep(15);
    }
  }

  /** Runs a QMP command; returns its reply's `return` value (an error reply is thrown). */
  async qmp(command: string, args?: Record<string, unknown>): Promise<unknown> {
    const sock = net.connect(path.join(this.#options.dir, 'qmp.sock'));
    return new Promise<unknown>((resolve, reject) => {
      let buffer = '';
      let step = 0;
      sock.on('error', reject);
      sock.on('data', (d) => {
        buffer += d;
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) {
          if (step === 0 && line.includes('QMP')) { sock.write('{"execute":"qmp_capabilities"}\n'); step = 1; }
          else if (step === 1 && line.includes('"return"')) { sock.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}) }) + '\n'); step = 2; }
          else if (step === 2 && (line.includes('"return"') || line.includes('"error"'))) {
            sock.end();
            const reply = JSON.parse(line) as { return?: unknown; error?: { desc: string } };
            if (reply.error) reject(new Error(`QMP ${command}: ${reply.error.desc}`));
            else resolve(reply.return);
          }
        }
      });
    });
  }

  /**
   * What the guest shows, for a test's log when a wait or check fails, so that a run on CI can be
   * diagnosed without the VM: the serial console's last lines, where each vCPU is (firmware or boot
   * loader, the kernel, user space; halted means idle) and whether the screen shows anything (its
   * picture is kept as screen.png in the VM's directory). Never throws: a part that cannot be had says why.
   */
  async evidence(): Promise<string> {
    const parts = [`serial console, last lines:\n${this.serial().trimEnd().split('\n').slice(-40).join('\n')}`];
    const code = this.#process?.exitCode;
    if (code !== null && code !== undefined) return [...parts, `QEMU has exited (${code})`].join('\n');
    try {
      const registers = String(await this.qmp('human-monitor-command', { 'command-line': 'info registers -a' }));
      parts.push(...registers.split(/^(?=CPU#\d)/m).filter((cpu) => cpu.startsWith('CPU#')).map((cpu) => {
        const rip = /RIP=([0-9a-f]+)/.exec(cpu)?.[1] ?? '?';
        const cpl = /CPL=(\d)/.exec(cpu)?.[1];
        const where = cpl === '3' ? 'user space' : /^ffff/.test(rip) ? 'the kernel' : 'firmware or boot loader';
        return `vCPU ${/^CPU#(\d+)/.exec(cpu)?.[1]}: RIP=${rip}, in ${where}${/HLT=1/.test(cpu) ? ', halted (idle)' : ''}`;
      }));
    } catch (err) {
      parts.push(`vCPUs: ${(err as Error).message}`);
    }
    try {
      const ppm = path.join(this.#options.dir, 'screen.ppm');
      await this.qmp('screendump', { filename: ppm });
      const { width, height, lit } = writePng(readFileSync(ppm), path.join(this.#options.dir, 'screen.png'));
      rmSync(ppm, { force: true });
      parts.push(lit === 0 ? `screen: blank (${width}x${height}, all black)`
        : `screen: ${(100 * lit / (width * height)).toFixed(1)} % of its ${width}x${height} pixels lit (${path.join(this.#options.dir, 'screen.png')})`);
    } catch (err) {
      parts.push(`screen: ${(err as Error).message}`);
    }
    return parts.join('\n');
  }

  /** Powers the guest down through QMP (ACPI), then makes sure QEMU is gone: killed by its PID. */
  async stop(graceMs = 60_000): Promise<void> {
    this.#serial?.destroy();
    const child = this.#process;
    if (!child || child.exitCode !== null) return;
    try {
      await this.qmp('system_powerdown');
      await Promise.race([this.#exited, sleep(graceMs)]);
    } finally {
      if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
      await this.#exited;
    }
  }
}

/**
 * A pattern for literal text read off the serial console in which any character may show more than
 * once: a UART under emulation can resend a byte, and the screen is for people, not parsers.
 * Facts the tests assert as numbers come from machine-readable sources (API, SNMP) instead.
 */
export function loose(text: string): RegExp {
  return new RegExp(loosePart(text));
}

/** The source of `loose(text)`, to compose into larger patterns. */
export function loosePart(text: string): string {
  return [...text].map((c) => (/\s/.test(c) ? '\\s+' : c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&') + '+')).join('');
}

export function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '').replace(/\x1b[()][A-Z0-9]/g, '').replace(/\r/g, '');
}

/** A free TCP (and UDP) port below 32768 on 127.0.0.1: the ephemeral range is busy on CI. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (ok) return port;
  }
}

/**
 * Writes QEMU's screendump (binary PPM, 8 bits per channel) as a PNG; returns its size and how many
 * pixels are not black.
 */
function writePng(ppm: Buffer, file: string): { width: number; height: number; lit: number } {
  const header = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(ppm.subarray(0, 64).toString('latin1'));
  if (!header) throw new Error('the screendump is not a binary PPM');
  const [width, height] = [Number(header[1]), Number(header[2])];
  const pixels = ppm.subarray(header[0].length);
  const rows = Buffer.alloc((width * 3 + 1) * height);
  let lit = 0;
  for (let y = 0; y < height; y++) {
    const row = pixels.subarray(y * width * 3, (y + 1) * width * 3);
    row.copy(rows, y * (width * 3 + 1) + 1);
    for (let x = 0; x < row.length; x += 3) if (row[x] || row[x + 1] || row[x + 2]) lit++;
  }
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bits per channel
  ihdr[9] = 2; // truecolour
  writeFileSync(file, Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]));
  return { width, height, lit };
}
