// The messages the benchmark sends: the test split of the SpamAssassin public corpus (the split the
// peers used; the train split teaches the classifier), ham and spam mixed in a fixed pseudo-random
// order. Each is DKIM-signed once here (not measured) by one of the bench sender domains, so the
// daemon's DKIM check verifies a real signature; then made wire-ready: CRLF line ends, dot-stuffed,
// without the final "." (the load generator adds its sequence header and the terminator).
import { createHash, generateKeyPairSync } from 'node:crypto';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { loadSpamAssassinCorpus, type CorpusMessage } from '../../appliance/classifier/sa-corpus.ts';

export const SENDER_DOMAINS = ['bench-sender-a.test', 'bench-sender-b.test', 'bench-sender-c.test'];
export const DKIM_SELECTOR = 'bench';

export interface WireMessage { id: string; spam: boolean; senderDomain: string; body: Buffer }

export interface PreparedCorpus {
  train: CorpusMessage[];
  messages: WireMessage[];
  /** Public key (base64 SPKI DER) for the DKIM TXT record of every sender domain. */
  dkimPublicKey: string;
  signed: number;
}

function toWire(raw: Buffer): Buffer {
  let s = raw.toString('latin1').replace(/\r?\n/g, '\r\n');
  if (!s.endsWith('\r\n')) s += '\r\n';
  return Buffer.from(s.replace(/(^|\r\n)\./g, '$1..'), 'latin1');
}

export async function prepareCorpus(): Promise<PreparedCorpus> {
  const all = loadSpamAssassinCorpus();
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const dkimPublicKey = (publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64');
  const order = (m: CorpusMessage) => createHash('sha1').update('mailmoat-bench:' + m.md5).digest('hex');
  const test = all.filter((m) => m.split === 'test').sort((a, b) => (order(a) < order(b) ? -1 : 1));
  const messages: WireMessage[] = [];
  let signed = 0;
  for (const [i, m] of test.entries()) {
    const senderDomain = SENDER_DOMAINS[i % SENDER_DOMAINS.length];
    const raw = Buffer.from(m.raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
    const sig = await dkimSign(raw, { signatureData: [{ signingDomain: senderDomain, selector: DKIM_SELECTOR, privateKey: privPem }] } as Parameters<typeof dkimSign>[1]);
    if (sig.signatures) signed++;
    messages.push({ id: m.id, spam: m.spam, senderDomain, body: toWire(Buffer.concat([Buffer.from(sig.signatures ?? '', 'latin1'), raw])) });
  }
  return { train: all.filter((m) => m.split === 'train'), messages, dkimPublicKey, signed };
}
