// The words and numbers a person reads, in their language: a message's status, direction and
// class explanation, a domain's recipient mode and route TLS, a service's or disk's state — each from the
// catalog, keyed by the API's own value (a value the catalog does not know yet is shown as it
// came, never hidden) — and scores (one decimal), sizes and dates formatted per language.
// Class names themselves stay as the manual names them (Spam, Phish, Not Spam…).
import type { MessageKey } from '../../appliance/i18n/catalog.ts';
import { isMessageKey } from '../../appliance/i18n/catalog.ts';
import { lang, t } from './i18n.ts';
import { sizeText } from './sizes.ts';

const slug = (value: string) => value.toLowerCase().replace(/[^a-z0-9]+/g, '-');

/** The catalog's text for `<prefix>.<value as a slug>`, or the value itself when there is none. */
function word(prefix: string, value: string): string {
  const key = `${prefix}.${slug(value)}`;
  return isMessageKey(key) ? t(key as MessageKey) : value;
}

export const statusText = (status: string) => word('status', status);
export const directionText = (direction: string) => word('direction', direction);
export const recipientModeText = (mode: string) => word('recipientMode', mode);
export const stateText = (state: string) => word('state', state);
export const routeTlsText = (tls: string) => word('routeTls', tls);

/** What a main class means, in a sentence (the class's name stays as the manual has it). */
export function classExplanation(cls: string): string | undefined {
  const key = `classExplain.${slug(cls)}`;
  return isMessageKey(key) ? t(key as MessageKey) : undefined;
}

/** A score (a percentage or logit units) to one decimal, in the language's digits and separators. */
export function formatScore(score: number | undefined, signed = false): string {
  if (score === undefined || !Number.isFinite(score)) return '—';
  return new Intl.NumberFormat(lang(), { minimumFractionDigits: 1, maximumFractionDigits: 1, ...(signed ? { signDisplay: 'exceptZero' } : {}) }).format(score);
}

/** A size in bytes as a person reads it in their language: "302 バイト", "1.2 MB" (sizes.ts). */
export const formatSize = (bytes: number): string => sizeText(lang(), bytes);

/** A calendar date (a certificate's expiry): "2027年3月1日", "March 1, 2027". */
export function formatDate(iso: string | number, timeZone?: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : new Intl.DateTimeFormat(lang(), { dateStyle: 'long', ...(timeZone ? { timeZone } : {}) }).format(d);
}
