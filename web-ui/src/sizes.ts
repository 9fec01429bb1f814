// A size in bytes as a person reads it, in their language: "302 バイト", "1.2 kB", "3.4 MB" in
// Japanese, "302 bytes", "1.2 kB", "3.4 MB" in English — the unit words from the catalog
// (`size.*`), the number in the language's digits with one decimal above bytes. Kept apart from
// format.ts (which reads the page's language) so that it can be tested without a page.
import { translate, type Language } from '../../appliance/i18n/catalog.ts';

const UNITS = ['size.bytes', 'size.kB', 'size.MB', 'size.GB', 'size.TB'] as const;

export function sizeText(language: Language, bytes: number): string {
  if (!Number.isFinite(bytes)) return '—';
  let n = bytes;
  let u = 0;
  while (Math.abs(n) >= 1000 && u < UNITS.length - 1) { n /= 1000; u++; }
  // 999.96 kB would show as "1,000.0 kB": one unit up instead.
  if (u > 0 && u < UNITS.length - 1 && Math.round(Math.abs(n) * 10) >= 10_000) { n /= 1000; u++; }
  const number = new Intl.NumberFormat(language, { minimumFractionDigits: u === 0 ? 0 : 1, maximumFractionDigits: u === 0 ? 0 : 1 }).format(n);
  return translate(language, u === 0 && bytes === 1 ? 'size.byte' : UNITS[u], { n: number });
}
