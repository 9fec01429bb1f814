// The language of the maintenance menu: the one chosen in the setup wizard (the console's
// language, which the daemon's status reports), but English whenever the terminal may not show
// Japanese. Our English texts are plain ASCII, so they read on any terminal. A terminal shows
// Japanese when its locale's character set is UTF-8 (LC_ALL, else LC_CTYPE, else LANG, as POSIX
// reads them) and it is not one that has no glyphs for it: the Linux text console's font holds
// no kanji, and a serial line announced as a VT terminal may be a real one.
import type { Language } from '../i18n/catalog.ts';

const NO_JAPANESE_TERMS = new Set(['linux', 'vt100', 'vt102', 'vt220', 'vt320', 'ansi', 'dumb']);

export function terminalShowsJapanese(env: NodeJS.ProcessEnv): boolean {
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  const term = (env.TERM ?? '').toLowerCase();
  return /utf-?8/i.test(locale) && term !== '' && !NO_JAPANESE_TERMS.has(term);
}

/** The menu's language: the chosen one where the terminal can show it, else English. */
export function menuLanguage(chosen: Language | undefined, env: NodeJS.ProcessEnv): Language {
  return chosen === 'ja' && terminalShowsJapanese(env) ? 'ja' : 'en';
}
