// The appliance's TLS identity: the configured certificate and key, or, when none is configured,
// a self-signed certificate generated under <data>/tls (openssl; Node cannot write X.509), made
// again when the host name it names is no longer the box's.
// Used for STARTTLS on both SMTP listeners and for the web console.
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, readFile, rename, stat } from 'node:fs/promises';
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
  // The console and the SMTP listeners ask at the same moment after a host name change: one at a time.
  const run = selfSignedQueue.then(() => selfSigned(opts.dataDir, opts.hostname));
  selfSignedQueue = run.catch(() => undefined);
  return run;
}

let selfSignedQueue: Promise<unknown> = Promise.resolve();

async function selfSigned(dataDir: string, hostname: string): Promise<TlsIdentity> {
  const dir = path.join(dataDir, 'tls');
  const keyFile = path.join(dir, 'self-signed.key');
  const certFile = path.join(dir, 'self-signed.crt');
  const name = hostname.replace(/[^A-Za-z0-9.-]/g, '') || 'mailmoat';
  if (!(await exists(keyFile)) || !(await exists(certFile)) || !(await usablePair(certFile, keyFile, name))) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Made beside the old pair and renamed over it, so a failure leaves a working pair behind.
    const [newKey, newCert] = [`${keyFile}.new`, `${certFile}.new`];
    try {
      await promisify(execFile)('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', newKey, '-out', newCert, '-days', '3650',
        '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`,
      ]);
    } catch (err) {
      throw new Error(`cannot generate a self-signed TLS certificate with openssl (${(err as Error).message.split('\n')[0]}); ` +
        'install openssl or set tls.certFile and tls.keyFile in the configuration');
    }
    await rename(newKey, keyFile);
    await rename(newCert, certFile);
  }
  const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
  return { key, cert, keyFile, certFile, selfSigned: true };
}

/** Whether the generated pair still names the box (the host name may have changed since) and the
 * key is the certificate's (a crash between the two renames could have left a mixed pair). */
async function usablePair(certFile: string, keyFile: string, name: string): Promise<boolean> {
  try {
    const cert = new X509Certificate(await readFile(certFile));
    return cert.checkHost(name) !== undefined && cert.checkPrivateKey(createPrivateKey(await readFile(keyFile)));
  } catch {
    return false; // unreadable or not a certificate: make a new one
  }
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
