// Talking to the console API: JSON in and out, the session's CSRF token on every change, the
// console's language as Accept-Language (so errors before login come in it too), and failures as
// ApiFailure values carrying the server's code, its message and per-field problems — both already
// in the user's language.
import { lang } from './i18n.ts';
import type { ServerText } from './validate.ts';

export interface Problem { path: string; message: string }
/** The answer of a route's connection test (wizard, domain settings). */
export interface RouteTest { ok: boolean; greeting?: string; problem?: ServerText }

export class ApiFailure extends Error {
  readonly status: number;
  readonly code: string;
  readonly problems: Problem[];
  /** Whether the message is the API's own (false: no answer, or one that is not the API's). */
  readonly fromServer: boolean;
  constructor(status: number, code: string, message: string, problems: Problem[] = [], fromServer = false) {
    super(message);
    this.status = status;
    this.code = code;
    this.problems = problems;
    this.fromServer = fromServer;
  }
}

let csrf: string | null = null;
export function setCsrf(token: string | null): void {
  csrf = token;
}
export function getCsrf(): string | null {
  return csrf;
}

export async function api<T>(method: string, url: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { 'accept-language': lang() };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (csrf && method !== 'GET') headers['x-csrf-token'] = csrf;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new ApiFailure(0, 'network', 'network error');
  }
  const data = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string }; problems?: Problem[] };
  if (!res.ok) {
    if (res.status === 401 && data.error?.code === 'unauthenticated') window.dispatchEvent(new Event('mm-logged-out'));
    throw new ApiFailure(res.status, data.error?.code ?? 'internal', data.error?.message ?? res.statusText, data.problems, typeof data.error?.message === 'string');
  }
  return data as T;
}

/** Problems keyed by JSON pointer, for showing next to fields. */
export function problemMap(problems: Problem[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const p of problems) map[p.path] ??= p.message;
  return map;
}
