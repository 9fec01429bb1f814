// The backup archive's encryption: a passphrase-protected stream that can be written and read
// piece by piece (a backup with a large quarantine never sits in memory whole).
//
// Layout: a 68-byte header, then chunks. Header: magic "MMBACKUP", format version (u16), scrypt
// cost (log2 N, r, p: one byte each), salt (16), nonce prefix (7), and a 32-byte check value —
// HMAC-SHA256 of the header's other bytes under a second key derived with the first. The check
// tells a wrong passphrase apart from a damaged archive before anything is decrypted. Each chunk
// is u32 length + AES-256-GCM ciphertext (at most CHUNK bytes of plain text) + 16-byte tag; the
// nonce is prefix ‖ chunk counter ‖ last-chunk flag (the STREAM construction), and the header is
// the associated data of every chunk. So reordered, dropped, altered or appended chunks and a cut
// archive all fail authentication, and nothing after a failure is ever handed on.
// A format version above FORMAT_VERSION is refused with a message saying to update first.
import { createCipheriv, createDecipheriv, createHmac, randomBytes, scrypt, timingSafeEqual, type BinaryLike, type ScryptOptions } from 'node:crypto';

export const FORMAT_VERSION = 1;
const MAGIC = Buffer.from('MMBACKUP');
const HEADER_BYTES = 8 + 2 + 3 + 16 + 7 + 32;
/** Plain-text bytes per chunk. */
export const CHUNK = 64 * 1024;
const TAG = 16;
/** Cost of new archives: N = 2^15, r = 8 (32 MiB, about 0.1 s). Archives read may ask for up to 256 MiB. */
const COST = { log2N: 15, r: 8, p: 1 };

export type BackupErrorCode = 'not-a-backup' | 'newer-format' | 'wrong-passphrase' | 'damaged' | 'truncated' | 'bad-content';

/** Why an archive cannot be read, in words an operator can act on; `code` for the API. */
export class BackupError extends Error {
  override name = 'BackupError';
  readonly code: BackupErrorCode;
  constructor(code: BackupErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

function deriveKeys(passphrase: string, salt: Buffer, cost: typeof COST): Promise<{ enc: Buffer; check: Buffer }> {
  const N = 2 ** cost.log2N;
  const options: ScryptOptions = { N, r: cost.r, p: cost.p, maxmem: 256 * N * cost.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize('NFC') as BinaryLike, salt, 64, options, (err, key) => {
      if (err) reject(err);
      else resolve({ enc: key.subarray(0, 32), check: key.subarray(32) });
    });
  });
}

function nonce(prefix: Buffer, counter: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0);
  n.writeUInt32BE(counter, 7);
  n[11] = last ? 1 : 0;
  return n;
}

/** Encrypts a stream of plain-text pieces into the archive's bytes. */
export async function* encrypt(plain: AsyncIterable<Buffer>, passphrase: string): AsyncGenerator<Buffer> {
  const salt = randomBytes(16);
  const prefix = randomBytes(7);
  const keys = await deriveKeys(passphrase, salt, COST);
  const head = Buffer.alloc(HEADER_BYTES - 32);
  MAGIC.copy(head, 0);
  head.writeUInt16BE(FORMAT_VERSION, 8);
  head[10] = COST.log2N; head[11] = COST.r; head[12] = COST.p;
  salt.copy(head, 13);
  prefix.copy(head, 29);
  const header = Buffer.concat([head, createHmac('sha256', keys.check).update(head).digest()]);
  yield header;
  let counter = 0;
  const seal = (data: Buffer, last: boolean): Buffer => {
    const cipher = createCipheriv('aes-256-gcm', keys.enc, nonce(prefix, counter++, last));
    cipher.setAAD(header);
    const body = Buffer.concat([cipher.update(data), cipher.final()]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    return Buffer.concat([len, body, cipher.getAuthTag()]);
  };
  let pending: Buffer[] = [];
  let size = 0;
  for await (const piece of plain) {
    pending.push(piece);
    size += piece.length;
    if (size > CHUNK) {
      let all = Buffer.concat(pending, size);
      // The last piece is kept back even when full: only the end of the input knows it is the last.
      while (all.length > CHUNK) {
        yield seal(all.subarray(0, CHUNK), false);
        all = all.subarray(CHUNK);
      }
      pending = [all];
      size = all.length;
    }
  }
  yield seal(Buffer.concat(pending), true);
}

/** Reads exact byte counts from a stream of pieces. */
export class ByteReader {
  #it: AsyncIterator<Buffer>;
  #buf = Buffer.alloc(0);
  constructor(source: AsyncIterable<Buffer>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  /** Up to `n` bytes, fewer only at the end of the stream. */
  async upTo(n: number): Promise<Buffer> {
    if (this.#buf.length < n) {
      // Gathered in a list and joined once: small pieces must not cost a copy each.
      const parts: Buffer[] = [this.#buf];
      let size = this.#buf.length;
      while (size < n) {
        const next = await this.#it.next();
        if (next.done) break;
        parts.push(next.value);
        size += next.value.length;
      }
      this.#buf = Buffer.concat(parts, size);
    }
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(out.length);
    return out;
  }

  /** Exactly `n` bytes, or `onShort` thrown. */
  async exactly(n: number, onShort: () => Error): Promise<Buffer> {
    const out = await this.upTo(n);
    if (out.length < n) throw onShort();
    return out;
  }
}

const truncated = () => new BackupError('truncated', 'the backup archive is incomplete (cut off before its end): the download or copy did not finish');
const damaged = (chunk: number) => new BackupError('damaged',
  `the backup archive is damaged or was altered (part ${chunk + 1} fails its integrity check); nothing from it was restored`);

/** Decrypts an archive, yielding authenticated plain text only; throws BackupError when it cannot. */
export async function* decrypt(archive: AsyncIterable<Buffer>, passphrase: string): AsyncGenerator<Buffer> {
  const reader = new ByteReader(archive);
  const header = await reader.upTo(HEADER_BYTES);
  if (header.length < 10 || !header.subarray(0, 8).equals(MAGIC)) {
    throw new BackupError('not-a-backup', 'this file is not a Mailmoat backup archive');
  }
  const version = header.readUInt16BE(8);
  if (version > FORMAT_VERSION) {
    throw new BackupError('newer-format', `this backup was written by a newer Mailmoat (archive format ${version}; this version reads up to ${FORMAT_VERSION}): update the appliance first, then restore`);
  }
  if (header.length < HEADER_BYTES) throw truncated();
  const cost = { log2N: header[10]!, r: header[11]!, p: header[12]! };
  // A header may not make the reader spend more than 256 MiB or 16 passes on the key.
  if (cost.log2N < 10 || cost.r < 1 || cost.p < 1 || cost.p > 16 || 128 * 2 ** cost.log2N * cost.r > 256 * 1024 * 1024) throw damaged(-1);
  const keys = await deriveKeys(passphrase, header.subarray(13, 29), cost);
  const expected = createHmac('sha256', keys.check).update(header.subarray(0, HEADER_BYTES - 32)).digest();
  if (!timingSafeEqual(expected, header.subarray(HEADER_BYTES - 32))) {
    throw new BackupError('wrong-passphrase', 'the passphrase is wrong for this backup (or its header is damaged); nothing was restored');
  }
  const prefix = header.subarray(29, 36);
  for (let counter = 0; ; counter++) {
    const len = (await reader.exactly(4, truncated)).readUInt32BE(0);
    if (len > CHUNK) throw damaged(counter);
    const body = await reader.exactly(len + TAG, truncated);
    const open = (last: boolean): Buffer | undefined => {
      const decipher = createDecipheriv('aes-256-gcm', keys.enc, nonce(prefix, counter, last));
      decipher.setAAD(header);
      decipher.setAuthTag(body.subarray(len));
      try {
        return Buffer.concat([decipher.update(body.subarray(0, len)), decipher.final()]);
      } catch {
        return undefined;
      }
    };
    const middle = open(false);
    const plain = middle ?? open(true);
    if (!plain) throw damaged(counter);
    if (plain.length) yield plain;
    if (!middle) {
      if ((await reader.upTo(1)).length) throw damaged(counter + 1);
      return;
    }
  }
}
