// The DKIM key memo of the analysis threads: a key record seen before is not imported again, and
// verification gives exactly what it gives without the memo — a good signature passes, a changed
// body fails, and a rotated key (same selector, new key) is used as soon as DNS says so.
// (Ava runs each test file in its own worker thread, so the patched node:crypto stays in this one.)
import test from 'ava';
import crypto, { generateKeyPairSync } from 'node:crypto';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { installDkimKeyMemo } from '../../appliance/pipeline/dkim-key-memo.ts';

installDkimKeyMemo();

const keyA = generateKeyPairSync('rsa', { modulusLength: 2048 });
const keyB = generateKeyPairSync('rsa', { modulusLength: 2048 });
const b64 = (k: crypto.KeyObject) => k.export({ type: 'spki', format: 'der' }).toString('base64');

let published = b64(keyA.publicKey);
const resolver = async (name: string, rrtype: string) => {
  if (rrtype === 'TXT' && name === 'sel._domainkey.signer.test') return [[`v=DKIM1; k=rsa; p=${published}`]];
  throw Object.assign(new Error(`no ${rrtype} for ${name}`), { code: 'ENOTFOUND' });
};

async function signed(body: string, key: crypto.KeyObject): Promise<Buffer> {
  const raw = Buffer.from(`From: a@signer.test\r\nTo: b@example.com\r\nSubject: s\r\n\r\n${body}\r\n`);
  const privateKey = key.export({ type: 'pkcs8', format: 'pem' }).toString();
  const sig = await dkimSign(raw, { signatureData: [{ signingDomain: 'signer.test', selector: 'sel', privateKey }] } as Parameters<typeof dkimSign>[1]);
  return Buffer.concat([Buffer.from(sig.signatures), raw]);
}

const verdict = async (raw: Buffer) => (await dkimVerify(raw, { resolver })).results[0].status.result;

test('the same DER key gives the same KeyObject; a different one does not', (t) => {
  const der = keyA.publicKey.export({ type: 'spki', format: 'der' });
  const one = crypto.createPublicKey({ key: der, format: 'der', type: 'spki' });
  t.is(crypto.createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' }), one);
  t.not(crypto.createPublicKey({ key: keyB.publicKey.export({ type: 'spki', format: 'der' }), format: 'der', type: 'spki' }), one);
  t.is(one.export({ type: 'spki', format: 'pem' }), keyA.publicKey.export({ type: 'spki', format: 'pem' }));
});

test('verification with remembered keys: pass, pass again, tampered fails, rotated key honoured', async (t) => {
  published = b64(keyA.publicKey);
  const good = await signed('first message', keyA.privateKey);
  t.is(await verdict(good), 'pass');
  t.is(await verdict(await signed('second message', keyA.privateKey)), 'pass');
  t.is(await verdict(Buffer.from(good.toString('latin1').replace('Subject: s', 'Subject: t'), 'latin1')), 'fail', 'a signed header changed');
  t.not(await verdict(Buffer.from(good.toString('latin1').replace('first message', 'first massage'), 'latin1')), 'pass', 'the body changed');

  published = b64(keyB.publicKey);
  t.is(await verdict(good), 'fail', 'a message signed with the old key no longer verifies');
  t.is(await verdict(await signed('after rotation', keyB.privateKey)), 'pass');
});
