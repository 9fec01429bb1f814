// The maintenance menu's language: the one chosen in the wizard where the terminal can show
// Japanese (a UTF-8 locale, a terminal with the glyphs), else English.
import test from 'ava';
import { menuLanguage, terminalShowsJapanese } from '../../appliance/console/language.ts';
import { catalog } from '../../appliance/i18n/catalog.ts';

test('Japanese only on a UTF-8 terminal that has the glyphs', (t) => {
  t.true(terminalShowsJapanese({ LANG: 'ja_JP.UTF-8', TERM: 'xterm-256color' }));
  t.true(terminalShowsJapanese({ LANG: 'C.utf8', TERM: 'screen' }));
  t.true(terminalShowsJapanese({ LC_CTYPE: 'C.UTF-8', LANG: 'C', TERM: 'xterm' }), 'LC_CTYPE before LANG');
  t.false(terminalShowsJapanese({ LC_ALL: 'C', LANG: 'ja_JP.UTF-8', TERM: 'xterm' }), 'LC_ALL before all');
  t.false(terminalShowsJapanese({ TERM: 'xterm' }), 'no locale: the C locale, ASCII');
  t.false(terminalShowsJapanese({ LANG: 'ja_JP.eucJP', TERM: 'xterm' }));
  for (const term of ['linux', 'vt100', 'vt220', 'dumb']) t.false(terminalShowsJapanese({ LANG: 'C.UTF-8', TERM: term }), term);
  t.false(terminalShowsJapanese({ LANG: 'C.UTF-8' }), 'no TERM: nothing known about the terminal');
});

test('the menu takes the wizard\'s language where it can, English otherwise', (t) => {
  const utf8 = { LANG: 'C.UTF-8', TERM: 'xterm' };
  t.is(menuLanguage('ja', utf8), 'ja');
  t.is(menuLanguage('en', utf8), 'en');
  t.is(menuLanguage(undefined, utf8), 'en', 'the daemon did not say');
  t.is(menuLanguage('ja', { LANG: 'C.UTF-8', TERM: 'linux' }), 'en');
});

test('the menu\'s English texts are ASCII, so any terminal shows them', (t) => {
  const nonAscii = Object.entries(catalog.en).filter(([key, text]) => key.startsWith('menu.') && !/^[\x20-\x7e]*$/.test(text));
  t.deepEqual(nonAscii, []);
});
