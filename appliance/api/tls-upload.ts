// Installing an uploaded TLS certificate: the PEM chain and key must parse and belong together
// before anything is written; then they are stored under <data>/tls (key readable only by the
// daemon) and the configuration points at them. Used by the wizard and the System page.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { problem, type ConfigProblem } from '../config/problems.ts';

export interface CertificateSummary {
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  fingerprint256: string;
  subjectAltName?: string;
}

export function summarise(cert: X509Certificate): CertificateSummary {
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    validFrom: new Date(cert.validFrom).toISOString(),
    validTo: new Date(cert.validTo).toISOString(),
    fingerprint256: cert.fingerprint256,
    subjectAltName: cert.subjectAltName,
  };
}

/** Problems with an uploaded pair (paths /cert and /key), or the parsed leaf certificate. */
export function checkPair(certPem: string, keyPem: string): { problems: ConfigProblem[] } | { cert: X509Certificate } {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    return { problems: [problem('/cert', 'problem.not-pem-certificate')] };
  }
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    return { problems: [problem('/key', 'problem.not-pem-key')] };
  }
  if (!cert.checkPrivateKey(key)) return { problems: [problem('/key', 'problem.key-mismatch')] };
  if (Date.parse(cert.validTo) < Date.now()) return { problems: [problem('/cert', 'problem.certificate-expired', { date: new Date(cert.validTo).toISOString().slice(0, 10) })] };
  return { cert };
}

export async function storePair(dataDir: string, certPem: string, keyPem: string): Promise<{ certFile: string; keyFile: string }> {
  const dir = path.join(dataDir, 'tls');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const certFile = path.join(dir, 'uploaded.crt');
  const keyFile = path.join(dir, 'uploaded.key');
  await writeFile(keyFile, keyPem, { mode: 0o600 });
  await writeFile(certFile, certPem, { mode: 0o644 });
  return { certFile, keyFile };
}
