// The messages the benchmark sends: the test split of the SpamAssassin public corpus (the split the
// peers used; the train split teaches the classifier), ham and spam mixed in a fixed pseudo-random
// order. Each is DKIM-signed once here (not measured) by one of the bench sender domains, so the
// daemon's DKIM check verifies a real signature; then made wire-ready: CRLF line ends, dot-stuffed,
// without the final "." (the load generator adds its sequence header and the terminator).
//
// `--mutate PCT` replaces that share of the messages, picked and mutated from a fixed seed, with
// mangled copies as an attacker's run sends them (MIME and header syntax inserted, spans cut or
// repeated, bits flipped; the DKIM signature then fails), each sent from a sender domain of its own
// so the DNS questions, cache entries and log terms never repeat: what a long run of new names
// would make grow, grows in a soak.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { loadSpamAssassinCorpus, type CorpusMessage } from '../../appliance/classifier/sa-corpus.ts';

export const SENDER_DOMAINS = ['bench-sender-a.test', 'bench-sender-b.test', 'bench-sender-c.test'];
export const DKIM_SELECTOR = 'bench';

export interface WireMessage {
  id: string; spam: boolean; senderDomain: string; body: Buffer;
  /** A mutant: sent from a sender domain made for its sequence number. */
  mutated?: boolean;
}

export interface PreparedCorpus {
  train: CorpusMessage[];
  messages: WireMessage[];
  /** Public key (base64 SPKI DER) for the DKIM TXT record of every sender domain. */
  dkimPublicKey: string;
  signed: number;
  /** The messages with `pct` % of them replaced by mutants (see above). */
  mutate(pct: number): WireMessage[];
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
  const raws: Buffer[] = [];
  let signed = 0;
  for (const [i, m] of test.entries()) {
    const senderDomain = SENDER_DOMAINS[i % SENDER_DOMAINS.length];
    const raw = Buffer.from(m.raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
    const sig = await dkimSign(raw, { signatureData: [{ signingDomain: senderDomain, selector: DKIM_SELECTOR, privateKey: privPem }] } as Parameters<typeof dkimSign>[1]);
    if (sig.signatures) signed++;
    const signedRaw = Buffer.concat([Buffer.from(sig.signatures ?? '', 'latin1'), raw]);
    messages.push({ id: m.id, spam: m.spam, senderDomain, body: toWire(signedRaw) });
    raws.push(signedRaw);
  }
  return { train: all.filter((m) => m.split === 'train'), messages, dkimPublicKey, signed, mutate: (pct) => mutateShare(messages, raws, pct) };
}

/** mulberry32: a small seeded generator, so every run mutates the same messages the same way. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const TOKENS = ['\n', '\n\n', ': ', '=?utf-8?B?', '=?iso-2022-jp?Q?', '?=', '--', '\nContent-Type: multipart/mixed; boundary="b"\n', '\n--b\n',
  'Content-Transfer-Encoding: base64\n', '<html><a href="http://', '">', '\u0000', '\u00ff\u00fe', '%', '=\n', 'From: <@>\n', '\t'];

function mutateShare(messages: WireMessage[], raws: Buffer[], pct: number): WireMessage[] {
  const rnd = random(20261130);
  return messages.map((m, i) => {
    if (rnd() * 100 >= pct) return m;
    let b = Buffer.from(raws[i]);
    for (let k = 1 + Math.floor(rnd() * 8); k > 0; k--) {
      const at = Math.floor(rnd() * b.length);
      const len = 1 + Math.floor(rnd() * 64);
      const op = rnd();
      if (op < 0.4) {
        const ins = rnd() < 0.75 ? Buffer.from(TOKENS[Math.floor(rnd() * TOKENS.length)], 'latin1') : Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 16) }, () => Math.floor(rnd() * 256)));
        b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
      } else if (op < 0.6) b = Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
      else if (op < 0.8) b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
      else if (at < b.length) b[at] ^= 1 << Math.floor(rnd() * 8);
    }
    return { id: `${m.id}-mutant`, spam: m.spam, senderDomain: m.senderDomain, body: toWire(b), mutated: true };
  });
}
