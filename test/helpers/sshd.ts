// A real OpenSSH server for tests: Debian's sshd in the foreground on a loopback port, with its own
// sshd_config, host key and authorized_keys in a temporary folder, the internal SFTP server, and
// key authentication for the user running the tests (the only user an sshd can log in without
// touching the machine's accounts). Stopped by its PID.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const SSHD_BIN = '/usr/sbin/sshd';

export interface SshdInstance {
  port: number;
  user: string;
  /** The host key's fingerprint as ssh-keygen -l prints it (SHA256:…). */
  hostKey: string;
  /** An OpenSSH private key the server accepts for `user`. */
  clientKey: string;
  /** A folder the user may write, for the archives. */
  uploads: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'mailmoat-test', '-f', file]);

export async function startSshd(): Promise<SshdInstance> {
  if (!existsSync(SSHD_BIN)) throw new Error(`${SSHD_BIN} is missing: run scripts/install-test-deps.sh (package openssh-server)`);
  // sshd running as root insists on its privilege separation folder.
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-sshd-'));
  const uploads = path.join(dir, 'uploads');
  mkdirSync(uploads);
  keygen(path.join(dir, 'host_key'));
  keygen(path.join(dir, 'client_key'));
  await writeFile(path.join(dir, 'authorized_keys'), await readFile(path.join(dir, 'client_key.pub')));
  const hostKey = execFileSync('ssh-keygen', ['-l', '-f', path.join(dir, 'host_key.pub')], { encoding: 'utf8' }).split(' ')[1];
  const user = os.userInfo().username;
  const port = await freePort();
  await writeFile(path.join(dir, 'sshd_config'), [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${path.join(dir, 'host_key')}`, `PidFile ${path.join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`, 'PubkeyAuthentication yes', 'PasswordAuthentication no',
    'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', 'PermitRootLogin prohibit-password', `AllowUsers ${user}`,
    'Subsystem sftp internal-sftp', 'LogLevel VERBOSE',
  ].join('\n') + '\n');
  const child = spawn(SSHD_BIN, ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  let exited = false;
  child.on('exit', () => { exited = true; });
  const stop = async () => {
    if (!exited) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    await rm(dir, { recursive: true, force: true });
  };
  // Ready once it logs that it listens (sshd -e writes its log to stderr).
  for (let i = 0; i < 300 && !exited && !/Server listening on 127\.0\.0\.1 port/.test(stderr); i++) await new Promise((r) => setTimeout(r, 100));
  if (exited || !/Server listening/.test(stderr)) {
    await stop();
    throw new Error(`sshd did not start: ${stderr.trim()}`);
  }
  return { port, user, hostKey, clientKey: await readFile(path.join(dir, 'client_key'), 'utf8'), uploads, stop };
}
