// Errors as values the console can act on: every refusal carries a stable `code` (the web UI
// translates it through the i18n catalog), an English message for API users, and, for invalid
// input, the JSON-pointer path of each problem so the form can show it next to its field.
import type { ConfigProblem } from '../config/validate.ts';

export interface ApiErrorBody {
  error: { code: string; message: string };
  problems?: ConfigProblem[];
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problems?: ConfigProblem[];
  readonly headers?: Record<string, string>;
  constructor(status: number, code: string, message: string, problems?: ConfigProblem[], headers?: Record<string, string>) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.problems = problems;
    this.headers = headers;
  }
  body(): ApiErrorBody {
    return this.problems ? { error: { code: this.code, message: this.message }, problems: this.problems } : { error: { code: this.code, message: this.message } };
  }
}

export const unauthenticated = () => new ApiError(401, 'unauthenticated', 'log in first (session cookie or Authorization: Bearer token)');
export const forbidden = (what = 'this') => new ApiError(403, 'forbidden', `your account may not access ${what}`);
export const notFound = (what: string) => new ApiError(404, 'not-found', `${what} does not exist`);
export const invalid = (problems: ConfigProblem[], message = 'the input is not valid; see problems') => new ApiError(400, 'invalid', message, problems);
export const unavailable = (what: string) => new ApiError(503, 'unavailable', `${what} is not available on this appliance yet`);
