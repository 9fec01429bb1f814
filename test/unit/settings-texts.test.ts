// The settings forms' texts and groups: every setting a group shows exists in the configuration
// schema and has a label in Japanese and English (each column of a list of rows too, and the words
// of each choice), so no form falls back to a key name; and every text is in both languages. A
// domain's settings (Reports) are checked the same way, `*` standing for any domain.
import test from 'ava';
import { ConfigSchema } from '../../appliance/config/schema.ts';
import { DOMAIN_SETTINGS_GROUPS, SETTINGS_GROUPS, steps } from '../../appliance/config/settings-groups.ts';
import { settingsTexts } from '../../appliance/i18n/settings-texts.ts';

type Node = { type?: string; properties?: Record<string, Node>; items?: Node; anyOf?: { const?: unknown }[] };
const at = (pointer: string): Node | undefined => {
  let n: Node | undefined = JSON.parse(JSON.stringify(ConfigSchema)) as Node;
  for (const s of steps(pointer)) n = s === '*' ? n?.items : n?.properties?.[s];
  return n;
};
const choices = (n: Node | undefined) => (n?.anyOf?.every((x) => 'const' in x) ? n.anyOf.map((x) => String(x.const)) : []);

test('every setting of every group is in the schema, labelled in both languages, its choices and columns too', (t) => {
  const shownByPages = [...Object.entries(SETTINGS_GROUPS).filter(([g]) => g !== 'rules').flatMap(([, list]) => list), ...Object.values(DOMAIN_SETTINGS_GROUPS).flat()];
  for (const pointer of shownByPages) {
    const node = at(pointer);
    t.truthy(node, `${pointer} is a configuration setting`);
    const keys: string[] = [`label:${pointer}`, ...choices(node).map((c) => `choice:${pointer}=${c}`), ...choices(node?.items).map((c) => `choice:${pointer}=${c}`)];
    if (node?.items?.properties) {
      for (const [col, colNode] of Object.entries(node.items.properties)) keys.push(`label:${pointer}/*/${col}`, ...choices(colNode).map((c) => `choice:${pointer}/*/${col}=${c}`));
    }
    for (const key of keys) {
      t.truthy((settingsTexts.en as Record<string, string>)[key], `${key} in English`);
      t.truthy((settingsTexts.ja as Record<string, string>)[key], `${key} in Japanese`);
    }
  }
  for (const group of [...Object.keys(SETTINGS_GROUPS), ...Object.keys(DOMAIN_SETTINGS_GROUPS)]) t.truthy((settingsTexts.ja as Record<string, string>)[`group.${group}`], group);
});

test('every settings text is in Japanese too, with the same placeholders', (t) => {
  const ph = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const [key, en] of Object.entries(settingsTexts.en)) {
    const ja = (settingsTexts.ja as Record<string, string>)[key];
    t.truthy(ja, key);
    t.deepEqual(ph(ja), ph(en), key);
  }
});
