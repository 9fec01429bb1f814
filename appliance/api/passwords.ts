// Console passwords: argon2id hashes (the argon2 package's defaults: 64 MiB, 3 passes), and the
// minimum a new password must meet. Relay (SMTP AUTH) passwords are a different thing (smtp/).
import argon2 from 'argon2';

export const MIN_PASSWORD_LENGTH = 10;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id });
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/** A problem with a proposed password, or null when it is acceptable. */
export function passwordProblem(password: string, username: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.toLowerCase() === username.toLowerCase()) return 'must not be the user name';
  return null;
}
