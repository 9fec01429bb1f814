// The backup archive's encryption (appliance/backup/archive.ts): what goes in comes out over
// many chunks; a wrong passphrase, an altered byte anywhere, a cut or extended archive, another
// file and a newer format are each refused with their own clear error, and nothing
// unauthenticated is ever handed on.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { BackupError, CHUNK, decrypt, encrypt, FORMAT_VERSION } from '../../appliance/backup/archive.ts';

const PASS = 'ein langes Passwort';

async function* pieces(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const p of source) out.push(p);
  return Buffer.concat(out);
}
const plain = randomBytes(3 * CHUNK + 12345);
const sealed = collect(encrypt(pieces(plain, 7000), PASS));

async function refusal(archive: Buffer, passphrase = PASS): Promise<{ error: BackupError; handedOn: number }> {
  let handedOn = 0;
  try {
    for await (const p of decrypt(pieces(archive, 5000), passphrase)) handedOn += p.length;
  } catch (err) {
    if (err instanceof BackupError) return { error: err, handedOn };
    throw err;
  }
  throw new Error('the archive was accepted');
}

test('an archive round-trips over several chunks, whatever the piece sizes on either side', async (t) => {
  const archive = await sealed;
  t.true(archive.length > plain.length, 'carries headers and tags');
  t.deepEqual(await collect(decrypt(pieces(archive, 1), PASS)).then((b) => b.equals(plain)), true);
  t.true((await collect(decrypt(pieces(archive, 100_000), PASS))).equals(plain));
  t.true((await collect(decrypt(pieces(await collect(encrypt(pieces(Buffer.alloc(0), 1), PASS)), 3), PASS))).equals(Buffer.alloc(0)));
});

test('a wrong passphrase is told apart from damage, before anything is decrypted', async (t) => {
  const { error, handedOn } = await refusal(await sealed, 'not the passphrase');
  t.is(error.code, 'wrong-passphrase');
  t.regex(error.message, /passphrase is wrong/);
  t.is(handedOn, 0);
});

test('one flipped byte anywhere in the chunks is refused as damage, and the chunk is never handed on', async (t) => {
  const archive = await sealed;
  // In the second chunk's ciphertext, in the last chunk's tag, and in a length field.
  const header = 68;
  const chunk = 4 + CHUNK + 16;
  for (const [at, goodBefore] of [[header + chunk + 100, CHUNK], [archive.length - 1, 3 * CHUNK], [header + chunk + 1, CHUNK]] as const) {
    const bad = Buffer.from(archive);
    bad[at]! ^= 0x01;
    const { error, handedOn } = await refusal(bad);
    t.true(['damaged', 'truncated'].includes(error.code), `${at}: ${error.code}`);
    t.true(handedOn <= goodBefore, `only authenticated chunks before byte ${at} were handed on`);
  }
  const salt = Buffer.from(archive);
  salt[20]! ^= 0x80;
  t.is((await refusal(salt)).error.code, 'wrong-passphrase', 'a damaged header cannot be told from a wrong passphrase; the message says so');
});

test('a cut archive, an extended one, another file and a newer format are refused clearly', async (t) => {
  const archive = await sealed;
  const cut = await refusal(archive.subarray(0, archive.length - 16 - 4 - (archive.length - 68) % (4 + CHUNK + 16)));
  t.is(cut.error.code, 'truncated');
  t.regex(cut.error.message, /incomplete/);
  // Dropping the last chunk whole ends on a chunk not marked last.
  const lastLen = (archive.length - 68) % (4 + CHUNK + 16);
  t.is((await refusal(archive.subarray(0, archive.length - lastLen))).error.code, 'truncated');
  t.is((await refusal(Buffer.concat([archive, Buffer.from('more')]))).error.code, 'damaged');
  t.is((await refusal(Buffer.from('{"format":"mailmoat-backup"}'))).error.code, 'not-a-backup');
  const newer = Buffer.from(archive);
  newer.writeUInt16BE(FORMAT_VERSION + 1, 8);
  const refused = await refusal(newer);
  t.is(refused.error.code, 'newer-format');
  t.regex(refused.error.message, /newer Mailmoat .*update the appliance first/);
});
