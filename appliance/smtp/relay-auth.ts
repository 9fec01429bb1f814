// Who may relay: the submission listener lets a client send to any domain when its IP is in
// relay.networks or it authenticated (AUTH PLAIN/LOGIN, only after STARTTLS) as a relay user.
// Passwords are stored as scrypt hashes: "scrypt$N$r$p$salt$hash" (base64url). A login with an
// unknown name costs the same scrypt work as a wrong password, so timing does not tell which names
// exist (the console's login does the same with argon2).
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import net from 'node:net';
import { parseCidr } from '../config/validate.ts';

const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));

const N = 16384, R = 8, P = 1;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, 32, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024,
  });
  return timingSafeEqual(key, expected);
}

// Verified against when the name is unknown; made once, with the same parameters as real hashes.
let dummyHash: Promise<string> | undefined;

/** The relay user a name and password log in as, or null; the same work whether or not the name exists. */
export async function relayLogin(
  users: readonly { username: string; passwordHash: string }[], username: string, password: string,
  verify: (password: string, stored: string) => Promise<boolean> = verifyPassword,
): Promise<string | null> {
  const user = users.find((u) => u.username === username);
  if (!user) {
    dummyHash ??= hashPassword('not a real password, only for timing');
    await verify(password, await dummyHash);
    return null;
  }
  return (await verify(password, user.passwordHash)) ? user.username : null;
}

/** A compiled matcher for a list of CIDR networks. */
export function networkMatcher(networks: string[]): (ip: string) => boolean {
  const list = new net.BlockList();
  for (const n of networks) {
    const c = parseCidr(n);
    if (c) list.addSubnet(c.address, c.prefix, c.family === 4 ? 'ipv4' : 'ipv6');
  }
  return (ip) => {
    const plain = ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
    const family = net.isIP(plain);
    return family !== 0 && list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  };
}
