// A real clamd for tests: Debian's clamav-daemon binary started in the foreground with a database
// directory holding only signature files the test writes (no official signatures exist offline).
// It listens on a unix socket in a temporary directory (and on a loopback TCP port when asked) and
// is stopped by its PID. clamd appends ".UNOFFICIAL" to the names of custom signatures.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { crc32, deflateRawSync } from 'node:zlib';
import { ping } from '../../appliance/pipeline/clamd-client.ts';

export const CLAMD_BIN = '/usr/sbin/clamd';

/** The EICAR test string, assembled so this file itself does not carry it verbatim. */
export const EICAR = Buffer.from(['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join(''));

/** Signatures detecting EICAR (.ndb body match) and Debian clamav-testfiles' clam.exe (.hdb md5). */
export const TEST_SIGNATURES: Record<string, string> = {
  'mailmoat-test.ndb': `Mailmoat.Test.EICAR:0:*:${Buffer.from('EICAR-STANDARD-ANTIVIRUS-TEST-FILE').toString('hex')}\n`,
  'mailmoat-test.hdb': 'aa15bcf478d165efd2065190eb473bcb:544:Mailmoat.Test.ClamExe\n',
};

/** Debian's clamav-testfiles: clam.exe, the harmless program the .hdb line above detects. */
export const CLAM_EXE = '/usr/share/clamav-testfiles/clam.exe';

export interface ClamdInstance {
  /** Unix socket path, usable as a ClamdTarget. */
  socket: string;
  /** "127.0.0.1:port" when tcp was requested. */
  tcp?: string;
  pid: number;
  /** Its configuration file (freshclam's NotifyClamd reads the socket from it) and database folder. */
  config: string;
  databaseDir: string;
  stop(): Promise<void>;
}

/** clamd needs its TCP port in its config file: pick a free one below the ephemeral range. */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

export function clamdAvailable(): boolean {
  return existsSync(CLAMD_BIN);
}

export async function startClamd(opts: { tcp?: boolean; streamMaxLength?: string; signatures?: Record<string, string> } = {}): Promise<ClamdInstance> {
  if (!clamdAvailable()) throw new Error(`${CLAMD_BIN} is missing: run scripts/install-test-deps.sh (package clamav-daemon)`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-clamd-'));
  const db = path.join(dir, 'db');
  await mkdir(db);
  for (const [name, text] of Object.entries(opts.signatures ?? TEST_SIGNATURES)) await writeFile(path.join(db, name), text);
  const socket = path.join(dir, 'clamd.sock');
  const port = opts.tcp ? await freePort() : undefined;
  const conf = [
    'Foreground yes',
    `DatabaseDirectory ${db}`,
    `LocalSocket ${socket}`,
    ...(port ? [`TCPSocket ${port}`, 'TCPAddr 127.0.0.1'] : []),
    `StreamMaxLength ${opts.streamMaxLength ?? '60M'}`,
    'LogFile ' + path.join(dir, 'clamd.log'),
    `PidFile ${path.join(dir, 'clamd.pid')}`,
    `TemporaryDirectory ${dir}`,
    'ScanArchive yes',
    'ScanMail yes',
  ];
  // clamd drops privileges to "User" only when told to; running it as the test's user keeps the
  // temporary directory readable.
  await writeFile(path.join(dir, 'clamd.conf'), conf.join('\n') + '\n');
  const child: ChildProcess = spawn(CLAMD_BIN, ['--config-file', path.join(dir, 'clamd.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  let exited = false;
  child.on('exit', () => { exited = true; });
  const pid = child.pid;
  if (pid === undefined) throw new Error('clamd did not start');
  const stop = async () => {
    if (!exited) {
      const gone = new Promise((r) => child.once('exit', r));
      process.kill(pid, 'SIGTERM');
      await gone;
    }
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 300; i++) {
    if (exited) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`clamd exited while starting: ${stderr.trim()}`);
    }
    if (existsSync(socket) && await ping(socket, 1000)) {
      return { socket, tcp: port ? `127.0.0.1:${port}` : undefined, pid, config: path.join(dir, 'clamd.conf'), databaseDir: db, stop };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`clamd did not answer PING within 30 s: ${stderr.trim()}`);
}

/**
 * A tiny zip writer (one deflated entry), to hide a test virus inside an archive: local file
 * header, data, central directory entry, end of central directory (APPNOTE 4.3).
 */
export function zipOne(name: string, data: Buffer): Buffer {
  const n = Buffer.from(name, 'utf8');
  const comp = deflateRawSync(data);
  const crc = crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4); // version needed
  local.writeUInt16LE(8, 8); // deflate
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(comp.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(n.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4); // version made by
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(comp.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(n.length, 28);
  central.writeUInt32LE(0, 42); // offset of the local header
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + n.length, 12);
  end.writeUInt32LE(local.length + n.length + comp.length, 16);
  return Buffer.concat([local, n, comp, central, n, end]);
}
