// `mailmoat hash-password`: reads a password from stdin and prints the scrypt hash that the
// configuration's relay.users[].passwordHash expects.
import { hashPassword } from '../smtp/relay-auth.ts';

export async function run(): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (!password) {
    console.error('give the password on standard input, e.g.: printf %s "secret" | mailmoat hash-password');
    return 2;
  }
  console.log(await hashPassword(password));
  return 0;
}
