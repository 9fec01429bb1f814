// Why a message was held, in the reader's language. The verdict (pipeline/verdict.ts) writes its
// reasons as English sentences, and records keep them as written; this module recognises each
// sentence the verdict makes, by its shape, and says it again from this catalog (built like the
// others: `ja` checked against `en`, `{name}` placeholders). So records written before it read in
// Japanese too. A sentence of a shape it does not know is shown as it was stored.
import { translate, type Catalog, type Language, isMessageKey } from './catalog.ts';

const en = {
  'why.rule': 'rule for {cls}: {action}',
  'why.outboundRule': 'outbound rule for {cls}: {action}',
  'why.virus': 'virus found: {virus}',
  'why.recipientBlock': 'the recipient is on the {scope} recipient block list ({value})',
  'why.locked': 'held: the {who} is locked by the {scope} list of {owner} ({value})',
  'why.allowed': 'allowed by the {scope} list "{kind}" of {owner} ({value})',
  'why.blocked': 'blocked by the {scope} list "{kind}" of {owner} ({value})',
  'why.conditionDelete': 'condition block lists delete silently',
  'why.oversize': 'larger than {size}, so not scanned: {action}',
  'why.dmarc': 'DMARC fails for {domain} and its policy is {policy}',
  'why.score': 'spam score {score}%',
  'why.noScorer': 'no spam scorer',
  'why.notScanned': 'not virus-scanned: {error}',
  'why.spf': 'SPF {result} for {domain}: {action}',
  'why.autoQuarantine': 'auto-quarantined by the {scope} list of {owner} ({value})',
  'why.notRejected': 'rejecting was not possible because other recipients accept the message: quarantined instead',
  'why.malformed': 'the message is malformed',
  'why.scope.domain': 'domain-level',
  'why.scope.address': 'mailbox-level',
  'why.scope.appliance': 'appliance-wide',
  'why.owner.appliance': 'the appliance',
  'why.who.sender': 'sender',
  'why.who.recipient': 'recipient',
  'why.action.accept': 'accept',
  'why.action.tag': 'accept with a subject tag',
  'why.action.quarantine': 'quarantine',
  'why.action.reject': 'reject',
  'why.action.delete': 'delete',
  'why.policy.reject': 'reject',
  'why.policy.quarantine': 'quarantine',
};
export type WhyKey = keyof typeof en;

const ja: Record<WhyKey, string> = {
  'why.rule': '{cls} の処理ルール: {action}',
  'why.outboundRule': '送信メールの {cls} の処理ルール: {action}',
  'why.virus': 'ウイルスを検出: {virus}',
  'why.recipientBlock': '受信者が{scope}の受信者拒否リストにあります（{value}）',
  'why.locked': '保留: {who}が {owner} の{scope}リストでロックされています（{value}）',
  'why.allowed': '{owner} の{scope}リスト「{kind}」で許可（{value}）',
  'why.blocked': '{owner} の{scope}リスト「{kind}」で拒否（{value}）',
  'why.conditionDelete': '条件による拒否リストは通知せずに削除します',
  'why.oversize': '{size} を超えるためスキャンしていません: {action}',
  'why.dmarc': '{domain} の DMARC が失敗し、そのポリシーは{policy}です',
  'why.score': 'スパムスコア {score}%',
  'why.noScorer': 'スパム判定器がありません',
  'why.notScanned': 'ウイルススキャンできませんでした: {error}',
  'why.spf': '{domain} の SPF が {result}: {action}',
  'why.autoQuarantine': '{owner} の{scope}リストにより自動隔離（{value}）',
  'why.notRejected': '他の受信者が受け入れるため拒否できず、代わりに隔離しました',
  'why.malformed': 'メールの形式が壊れています',
  'why.scope.domain': 'ドメイン単位の',
  'why.scope.address': 'メールボックス単位の',
  'why.scope.appliance': 'アプライアンス全体の',
  'why.owner.appliance': 'このアプライアンス',
  'why.who.sender': '送信者',
  'why.who.recipient': '受信者',
  'why.action.accept': '受け入れ',
  'why.action.tag': '件名にタグを付けて受け入れ',
  'why.action.quarantine': '隔離',
  'why.action.reject': '拒否',
  'why.action.delete': '削除',
  'why.policy.reject': '拒否',
  'why.policy.quarantine': '隔離',
};

export const whyCatalog: Catalog<WhyKey> = { en, ja };

type Groups = Record<string, string>;
/** Each sentence shape of pipeline/verdict.ts (and pipeline.ts), and the key that says it. */
const SHAPES: [RegExp, WhyKey][] = [
  [/^rule for (?<cls>.+): (?<action>[a-z]+)$/, 'why.rule'],
  [/^outbound rule for (?<cls>.+): (?<action>[a-z]+)$/, 'why.outboundRule'],
  [/^virus found: (?<virus>.+)$/, 'why.virus'],
  [/^recipient is on the (?<scope>domain|address|appliance) recipient block list \((?<value>.*)\)$/, 'why.recipientBlock'],
  [/^held: the (?<who>sender|recipient) is locked by the (?<scope>domain|address|appliance)-level list of (?<owner>\S+) \((?<value>.*)\)$/, 'why.locked'],
  [/^allowed by the (?<scope>domain|address|appliance)-level (?<kind>[a-z-]+) list of (?<owner>\S+) \((?<value>.*)\)$/, 'why.allowed'],
  [/^blocked by the (?<scope>domain|address|appliance)-level (?<kind>[a-z-]+) list of (?<owner>\S+) \((?<value>.*)\)$/, 'why.blocked'],
  [/^condition block lists delete silently$/, 'why.conditionDelete'],
  [/^larger than (?<bytes>\d+) bytes, so not scanned: (?<action>[a-z]+) \(filtering\.oversize\)$/, 'why.oversize'],
  [/^DMARC fails for (?<domain>\S+) and its policy is (?<policy>reject|quarantine)$/, 'why.dmarc'],
  [/^spam score (?<score>[\d.]+)%$/, 'why.score'],
  [/^no spam scorer$/, 'why.noScorer'],
  [/^not virus-scanned: (?<error>.+)$/, 'why.notScanned'],
  [/^SPF (?<result>[a-z]+) for (?<domain>.+): (?<action>[a-z]+)$/, 'why.spf'],
  [/^auto-quarantined by the (?<scope>domain|address|appliance)-level list of (?<owner>\S+) \((?<value>.*)\)$/, 'why.autoQuarantine'],
  [/^rejecting was not possible because other recipients accept the message: quarantined instead$/, 'why.notRejected'],
  [/^the message is malformed$/, 'why.malformed'],
];

const sub = (lang: Language, key: string, fallback: string) => (key in whyCatalog.en ? translate(lang, key as WhyKey, undefined, whyCatalog) : fallback);

/** The stored sentence in `lang`; as stored when its shape is not known. */
export function whyText(lang: Language, sentence: string): string {
  for (const [shape, key] of SHAPES) {
    const g: Groups | undefined = shape.exec(sentence)?.groups ?? (shape.test(sentence) ? {} : undefined);
    if (!g) continue;
    const params: Groups = { ...g };
    if (g.scope) params.scope = sub(lang, `why.scope.${g.scope}`, g.scope);
    // '*' owns the appliance-wide lists (lists-store's APPLIANCE_OWNER).
    if (g.owner === '*') params.owner = sub(lang, 'why.owner.appliance', g.owner);
    if (g.who) params.who = sub(lang, `why.who.${g.who}`, g.who);
    if (g.action) params.action = sub(lang, `why.action.${g.action}`, g.action);
    if (g.policy) params.policy = sub(lang, `why.policy.${g.policy}`, g.policy);
    if (g.kind) { const k = `lists.kind.${g.kind}`; params.kind = isMessageKey(k) ? translate(lang, k) : g.kind; }
    if (g.score) params.score = new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(Number(g.score));
    if (g.bytes) params.size = `${new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(Number(g.bytes) / 1e6)} MB`;
    return translate(lang, key, params, whyCatalog);
  }
  return sentence;
}
