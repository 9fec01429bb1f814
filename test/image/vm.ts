// A QEMU virtual machine booting the appliance image for the image tests: TCG (no KVM here),
// the image opened with snapshot=on so it stays pristine, a restricted user network with
// host forwards on 127.0.0.1 and a guestfwd to a sink on the host, the serial console recorded to
// a log file and reachable through a unix socket (to type into), and QMP for a clean power-down.
// QEMU's restricted network drops every UDP packet from the guest (DHCP and DNS aside), so UDP
// forwards (SNMP) need an unrestricted network: such a VM runs in its own network namespace with
// only a loopback, which keeps the guest just as cut off, and the test reaches its forwarded ports
// with `vm.run()` (nsenter into that namespace).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
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

export class Vm {
  readonly serialLog: string;
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
    for (;;) {
      const text = this.serial().slice(from);
      const m = pattern.exec(text);
      if (m) return m;
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

  async qmp(command: string): Promise<void> {
    const sock = net.connect(path.join(this.#options.dir, 'qmp.sock'));
    await new Promise<void>((resolve, reject) => {
      let buffer = '';
      let step = 0;
      sock.on('error', reject);
      sock.on('data', (d) => {
        buffer += d;
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) {
          if (step === 0 && line.includes('QMP')) { sock.write('{"execute":"qmp_capabilities"}\n'); step = 1; }
          else if (step === 1 && line.includes('"return"')) { sock.write(JSON.stringify({ execute: command }) + '\n'); step = 2; }
          else if (step === 2 && (line.includes('"return"') || line.includes('"error"'))) { sock.end(); resolve(); }
        }
      });
    });
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
