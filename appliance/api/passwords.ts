// Console passwords: argon2id hashes (the argon2 package's defaults: 64 MiB, 3 passes), and the
// minimum a new password must meet. Relay (SMTP AUTH) passwords are a different thing (smtp/).
import argon2 from 'argon2';
import { problem, type ConfigProblem } from '../config/problems.ts';

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

/** The problem with a proposed password (reported at `path`), or null when it is acceptable. */
export function passwordProblem(path: string, password: string, username: string): ConfigProblem | null {
  if (password.length < MIN_PASSWORD_LENGTH) return problem(path, 'problem.password-too-short', { min: MIN_PASSWORD_LENGTH });
  if (password.toLowerCase() === username.toLowerCase()) return problem(path, 'problem.password-is-user-name');
  return null;
}
