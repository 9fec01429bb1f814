// Errors as values the console can act on: every refusal carries a stable `code`, the key and
// parameters of its text (appliance/i18n/errors.ts) and, for invalid input, the JSON-pointer path
// of each problem so the form can show it next to its field. The body is rendered in the caller's
// language (their account's, else the request's Accept-Language, else English); the Error's own
// message is the English text.
import type { FastifyRequest } from 'fastify';
import type { ConfigProblem } from '../config/problems.ts';
import type { Language } from '../i18n/catalog.ts';
import { errorText, type ErrorKey, type LocalText, type TextParams } from '../i18n/server-messages.ts';

/** A text as the API sends it: rendered in the caller's language, with its key and parameters. */
export interface RenderedText {
  message: string;
  key: ErrorKey;
  params?: TextParams;
}

export interface ApiErrorBody {
  error: { code: string } & RenderedText;
  problems?: ({ path: string } & RenderedText)[];
}

export function render(lang: Language, text: LocalText): RenderedText {
  return text.params ? { message: errorText(lang, text), key: text.key, params: text.params } : { message: errorText(lang, text), key: text.key };
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly text: LocalText;
  readonly problems?: ConfigProblem[];
  readonly headers?: Record<string, string>;
  constructor(status: number, code: string, text: LocalText | ErrorKey, problems?: ConfigProblem[], headers?: Record<string, string>) {
    const local = typeof text === 'string' ? { key: text } : text;
    super(errorText('en', local));
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.text = local;
    this.problems = problems;
    this.headers = headers;
  }
  body(lang: Language = 'en'): ApiErrorBody {
    const error = { code: this.code, ...render(lang, this.text) };
    return this.problems ? { error, problems: this.problems.map((p) => ({ path: p.path, ...render(lang, p) })) } : { error };
  }
}

export const unauthenticated = () => new ApiError(401, 'unauthenticated', 'api.unauthenticated');
export const forbidden = (key: ErrorKey = 'api.forbidden', params?: TextParams) => new ApiError(403, 'forbidden', { key, params });
export const notFound = (key: ErrorKey, params?: TextParams) => new ApiError(404, 'not-found', { key, params });
export const invalid = (problems: ConfigProblem[], text: LocalText = { key: 'api.invalid' }) => new ApiError(400, 'invalid', text, problems);
export const unavailable = (key: ErrorKey) => new ApiError(503, 'unavailable', key);

/** The caller's language: their account's, else the best of ja/en in Accept-Language, else English. */
export function requestLanguage(req: FastifyRequest): Language {
  return req.principal?.language ?? acceptedLanguage(req.headers['accept-language']);
}

export function acceptedLanguage(header: string | undefined): Language {
  let best: { lang: Language; q: number } | undefined;
  for (const part of (header ?? '').split(',')) {
    const [tag, ...options] = part.trim().toLowerCase().split(';');
    const primary = tag.split('-')[0];
    if (primary !== 'ja' && primary !== 'en') continue;
    const qOption = options.map((o) => o.trim()).find((o) => o.startsWith('q='));
    const q = qOption ? Number(qOption.slice(2)) : 1;
    if (Number.isFinite(q) && q > 0 && (!best || q > best.q)) best = { lang: primary, q };
  }
  return best?.lang ?? 'en';
}
