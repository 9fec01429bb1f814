// Remembers imported DKIM public keys in an analysis thread.
//
// mailauth imports the signer's key from its DNS record for every message: createPublicKey() from
// the DER bytes, export() to PEM, and verify() parses that PEM once more. For a busy sender that is
// the same key thousands of times, and it was about half of the DKIM check's CPU. mailauth offers
// no hook for a key cache, so this wraps the two node:crypto functions it calls, in the analysis
// threads only (they run nothing but the analysis): a DER key seen before gives back the same
// KeyObject (immutable, so sharing is safe) with its PEM exports remembered, and verify() given such
// a PEM uses the KeyObject it came from. Keys that fail to import are not remembered.
import crypto, { type KeyObject, type PublicKeyInput } from 'node:crypto';

const MAX_KEYS = 2000;

export function installDkimKeyMemo(): void {
  const createPublicKey = crypto.createPublicKey;
  const verify = crypto.verify;
  const byDer = new Map<string, KeyObject>();
  const byPem = new Map<string, KeyObject>();

  const remember = (id: string, key: KeyObject): KeyObject => {
    if (byDer.size >= MAX_KEYS) { byDer.clear(); byPem.clear(); }
    const exports = new Map<string, unknown>();
    // The instance's own export(): the prototype's, once per set of options.
    Object.defineProperty(key, 'export', {
      value(options?: Parameters<KeyObject['export']>[0]) {
        const k = JSON.stringify(options ?? null);
        let out = exports.get(k);
        if (out === undefined) {
          out = (Object.getPrototypeOf(key) as KeyObject).export.call(key, options as never) as unknown;
          exports.set(k, out);
          if (typeof out === 'string') byPem.set(out, key);
        }
        return out;
      },
    });
    byDer.set(id, key);
    return key;
  };

  crypto.createPublicKey = ((input: Parameters<typeof createPublicKey>[0]) => {
    const der = input as PublicKeyInput & { key: unknown; type?: string };
    if (!der || typeof der !== 'object' || !Buffer.isBuffer(der.key) || der.format !== 'der') return createPublicKey(input);
    const id = `${der.type}:${der.key.toString('base64')}`;
    return byDer.get(id) ?? remember(id, createPublicKey(input));
  }) as typeof createPublicKey;

  crypto.verify = ((algorithm: string | null | undefined, data: NodeJS.ArrayBufferView, key: Parameters<typeof verify>[2], signature: NodeJS.ArrayBufferView, callback?: (err: Error | null, ok: boolean) => void) => {
    const known = typeof key === 'string' ? byPem.get(key) : undefined;
    return callback ? verify(algorithm, data, known ?? key, signature, callback) : verify(algorithm, data, known ?? key, signature);
  }) as typeof verify;
}
