// The appliance's TLS identity: the configured certificate and key, or, when none is configured,
// a self-signed certificate generated once under <data>/tls (openssl; Node cannot write X.509).
// Used for STARTTLS on both SMTP listeners and for the web console.
import { execFile } from 'node:child_process';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

export interface TlsIdentity {
  key: Buffer;
  cert: Buffer;
  /** Where the files are, so the console can show and replace them. */
  keyFile: string;
  certFile: string;
  selfSigned: boolean;
}

export async function loadTlsIdentity(opts: { dataDir: string; hostname: string; certFile?: string; keyFile?: string }): Promise<TlsIdentity> {
  if (opts.certFile && opts.keyFile) {
    const [cert, key] = await Promise.all([readOrExplain(opts.certFile, 'certificate'), readOrExplain(opts.keyFile, 'private key')]);
    return { key, cert, keyFile: opts.keyFile, certFile: opts.certFile, selfSigned: false };
  }
  const dir = path.join(opts.dataDir, 'tls');
  const keyFile = path.join(dir, 'self-signed.key');
  const certFile = path.join(dir, 'self-signed.crt');
  if (!(await exists(keyFile)) || !(await exists(certFile))) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const name = opts.hostname.replace(/[^A-Za-z0-9.-]/g, '') || 'mailmoat';
    try {
      await promisify(execFile)('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', keyFile, '-out', certFile, '-days', '3650',
        '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`,
      ]);
    } catch (err) {
      throw new Error(`cannot generate a self-signed TLS certificate with openssl (${(err as Error).message.split('\n')[0]}); ` +
        'install openssl or set tls.certFile and tls.keyFile in the configuration');
    }
  }
  const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
  return { key, cert, keyFile, certFile, selfSigned: true };
}

async function readOrExplain(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new Error(`cannot read the TLS ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; ` +
      'fix the path in tls.certFile / tls.keyFile or remove both to use a generated certificate');
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}
