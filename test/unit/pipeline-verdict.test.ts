// The verdict and the stamp: each main class and its configured action, the forced actions (lists,
// DMARC, SPF), subject tags, the outbound rule list, and the X-Mailmoat headers.
import test from 'ava';
import { validateConfig } from '../../appliance/config/validate.ts';
import type { Filtering } from '../../appliance/config/schema.ts';
import type { Findings } from '../../appliance/pipeline/message-context.ts';
import type { ListDecision } from '../../appliance/pipeline/lists.ts';
import { decide as decideFor } from '../../appliance/pipeline/verdict.ts';
import { stamp, formatScore, fold } from '../../appliance/pipeline/stamp.ts';

function filtering(over: Record<string, unknown> = {}): Filtering {
  const r = validateConfig({ filtering: over });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.config.filtering;
}

function findings(p: Partial<Findings> = {}): Findings {
  return {
    lists: {}, timings: {},
    parse: { ok: true, subject: 's', fromAddress: 'a@x.test', messageId: '', attachments: [] },
    antivirus: { status: 'clean' },
    spam: { score: 5, classHint: 'Not Spam', reasons: [] },
    ...p,
  };
}

/** Inbound mail, as most tests here judge it. */
const decide = (f: Findings, list: ListDecision | undefined, cfg: Filtering) => decideFor(f, list, cfg, 'inbound');

const hit = (kind: string, effect: ListDecision['effect']): ListDecision =>
  ({ effect, hit: { kind, scope: 'domain', owner: 'example.com', entryId: '1', value: 'x.test' } });

test('scores map to classes by the thresholds, and default rules act on them', (t) => {
  const cfg = filtering();
  const at = (score: number, classHint: 'Spam' | 'Phish' | 'Unsure' | 'Not Spam' = 'Spam') =>
    decide(findings({ spam: { score, classHint, reasons: [] } }), undefined, cfg);
  t.like(at(95), { mainClass: 'Spam', disposition: 'quarantine' });
  t.like(at(90), { mainClass: 'Spam', disposition: 'quarantine' }, 'the threshold itself is spam');
  t.like(at(97, 'Phish'), { mainClass: 'Phish', disposition: 'quarantine' });
  t.like(at(70), { mainClass: 'Unsure', disposition: 'deliver' });
  t.deepEqual(at(70).tags, ['UNSURE!!']);
  t.like(at(10, 'Not Spam'), { mainClass: 'Not Spam', disposition: 'deliver' });
  t.deepEqual(at(10, 'Not Spam').tags, []);
  t.like(decide(findings({ spam: { score: 95, classHint: 'Spam', reasons: [] } }), undefined, filtering({ spamThreshold: 99 })), { mainClass: 'Unsure' });
});

test('no scorer gives Unknown, accepted by default', (t) => {
  t.like(decide(findings({ spam: { score: 0, classHint: 'Unknown', reasons: [] } }), undefined, filtering()), { mainClass: 'Unknown', disposition: 'deliver' });
});

test('every action can be configured per class, first rule wins, with a custom tag', (t) => {
  const spam = findings({ spam: { score: 99, classHint: 'Spam', reasons: [] } });
  const rule = (action: string, tag?: string) => filtering({ rules: [{ class: 'Spam', action, ...(tag ? { tag } : {}) }, { class: 'Spam', action: 'reject' }] });
  t.like(decide(spam, undefined, rule('accept')), { disposition: 'deliver' });
  t.deepEqual(decide(spam, undefined, rule('tag', 'MEIWAKU!!')).tags, ['MEIWAKU!!']);
  t.like(decide(spam, undefined, rule('quarantine')), { disposition: 'quarantine' });
  t.like(decide(spam, undefined, rule('reject')), { disposition: 'reject' });
  t.like(decide(spam, undefined, rule('delete')), { disposition: 'delete' });
  t.like(decide(spam, undefined, filtering({ rules: [] })), { disposition: 'deliver' }, 'a class without a rule is accepted');
});

test('a virus wins over everything, even an allow list', (t) => {
  const v = decide(findings({ antivirus: { status: 'infected', virus: 'Eicar' } }), hit('sender-allow', 'allow'), filtering());
  t.like(v, { mainClass: 'Virus', disposition: 'reject' });
});

test('lists: allow → Whitelisted, sender block → Blacklisted by rule, condition block deletes, auto-quarantine quarantines', (t) => {
  const spam = findings({ spam: { score: 99, classHint: 'Spam', reasons: [] } });
  t.like(decide(spam, hit('sender-allow', 'allow'), filtering()), { mainClass: 'Whitelisted', disposition: 'deliver' });
  t.like(decide(findings(), hit('sender-block', 'block'), filtering()), { mainClass: 'Blacklisted', disposition: 'reject' });
  t.like(decide(findings(), hit('sender-block', 'block'), filtering({ rules: [{ class: 'Blacklisted', action: 'delete' }] })), { disposition: 'delete' });
  t.like(decide(findings(), hit('condition-block', 'delete'), filtering()), { mainClass: 'Blacklisted', disposition: 'delete' });
  t.like(decide(findings(), hit('condition-quarantine', 'quarantine'), filtering()), { mainClass: 'Not Spam', disposition: 'quarantine' });
  t.like(decide(findings(), hit('recipient-block', 'refuse'), filtering()), { mainClass: 'Blacklisted', disposition: 'reject' });
});

test('malformed MIME is class Error with its rule (quarantine by default)', (t) => {
  const f = findings({ parse: { ok: false, error: 'no header section', subject: '', fromAddress: '', messageId: '', attachments: [] } });
  t.like(decide(f, undefined, filtering()), { mainClass: 'Error', disposition: 'quarantine' });
  t.like(decide(f, undefined, filtering({ rules: [{ class: 'Error', action: 'accept' }] })), { mainClass: 'Error', disposition: 'deliver' });
});

test('DMARC p=reject failure is Phish and rejected; p=quarantine quarantined; both can be switched off', (t) => {
  const auth = (policy: string) => ({
    spf: { result: 'fail', domain: 'bank.test', ng: true }, dkim: [], arc: { result: 'none' }, fromDomain: 'bank.test', headers: [],
    dmarc: { result: 'fail', policy, domain: 'bank.test' },
  });
  t.like(decide(findings({ auth: auth('reject') }), undefined, filtering()), { mainClass: 'Phish', disposition: 'reject' });
  t.like(decide(findings({ auth: auth('quarantine') }), undefined, filtering()), { mainClass: 'Phish', disposition: 'quarantine' });
  t.like(decide(findings({ auth: auth('reject') }), undefined, filtering({ dmarc: { honourReject: false } })), { mainClass: 'Not Spam' });
});

test('SPF NG: tag or quarantine as configured, nothing by default', (t) => {
  const f = findings({ auth: { spf: { result: 'softfail', domain: 's.test', ng: true }, dkim: [], dmarc: null, arc: { result: 'none' }, fromDomain: 's.test', headers: [] } });
  t.like(decide(f, undefined, filtering()), { disposition: 'deliver' });
  t.deepEqual(decide(f, undefined, filtering()).tags, []);
  t.deepEqual(decide(f, undefined, filtering({ spf: { action: 'tag', tag: 'SPF-NG' } })).tags, ['SPF-NG']);
  t.like(decide(f, undefined, filtering({ spf: { action: 'quarantine' } })), { disposition: 'quarantine' });
});

test('an unscanned message (clamd failed, fail-open) is never called Not Spam', (t) => {
  const v = decide(findings({ antivirus: { status: 'failed', error: 'clamd down' } }), undefined, filtering());
  t.is(v.mainClass, 'Unknown');
});

test('outbound mail uses filtering.outboundRules when set, inbound mail never does', (t) => {
  const spam = findings({ spam: { score: 99, classHint: 'Spam', reasons: [] } });
  const cfg = filtering({ outboundRules: [{ class: 'Spam', action: 'reject' }] });
  t.like(decideFor(spam, undefined, cfg, 'outbound'), { mainClass: 'Spam', disposition: 'reject' });
  t.true(decideFor(spam, undefined, cfg, 'outbound').why.includes('outbound rule for Spam: reject'));
  t.like(decideFor(spam, undefined, cfg, 'inbound'), { mainClass: 'Spam', disposition: 'quarantine' }, 'inbound keeps the default rules');
  t.like(decideFor(findings({ antivirus: { status: 'infected', virus: 'Eicar' } }), undefined, cfg, 'outbound'), { mainClass: 'Virus', disposition: 'deliver' },
    'a class without an outbound rule is accepted: the inbound rules do not fill in');
  t.like(decideFor(findings(), hit('sender-block', 'block'), filtering({ outboundRules: [{ class: 'Blacklisted', action: 'delete' }] }), 'outbound'), { mainClass: 'Blacklisted', disposition: 'delete' });
  t.like(decideFor(spam, undefined, filtering({ outboundRules: [] }), 'outbound'), { disposition: 'deliver' }, 'an empty list accepts every class');
});

test('without filtering.outboundRules outbound mail uses filtering.rules', (t) => {
  const spam = findings({ spam: { score: 99, classHint: 'Spam', reasons: [] } });
  t.is(filtering().outboundRules, undefined, 'absent by default');
  t.like(decideFor(spam, undefined, filtering(), 'outbound'), { mainClass: 'Spam', disposition: 'quarantine' });
  const tagged = decideFor(spam, undefined, filtering({ rules: [{ class: 'Spam', action: 'tag', tag: 'MEIWAKU!!' }] }), 'outbound');
  t.deepEqual(tagged.tags, ['MEIWAKU!!']);
  t.true(tagged.why.includes('rule for Spam: tag'));
});

test('a bad outbound rule is refused at its path, like a bad rule', (t) => {
  const r = validateConfig({ filtering: { outboundRules: [{ class: 'Spam', action: 'bounce' }] } });
  t.false(r.ok);
  if (r.ok) return;
  t.deepEqual(r.problems.map((p) => p.path), ['/filtering/outboundRules/0/action']);
  t.like(r.problems[0], { key: 'problem.one-of', message: 'must be one of: accept, tag, quarantine, reject, delete' });
  const tag = validateConfig({ filtering: { outboundRules: [{ class: 'Spam', action: 'tag', tag: '' }] } });
  t.false(tag.ok);
  if (!tag.ok) t.deepEqual(tag.problems.map((p) => p.path), ['/filtering/outboundRules/0/tag']);
});

test('stamp: score with two decimals, class, reasons biggest first, auth headers first, subject tags', (t) => {
  const f = findings({
    spam: { score: 97.5349, classHint: 'Spam', reasons: [{ name: 'BAYES_99', contribution: 40 }, { name: 'URL_SHORTENER', contribution: 2.5 }, { name: '件名に未承諾', contribution: -55.125 }] },
    auth: { spf: { result: 'pass', domain: 'x.test', ng: false }, dkim: [], dmarc: null, arc: { result: 'none' }, fromDomain: 'x.test', headers: [['Received-SPF', 'pass'], ['Authentication-Results', 'mx; spf=pass']] },
  });
  const e = stamp(f, 'Spam', undefined, ['SPAM!!', 'SPF-NG!!'], true, 'mailmoat.test');
  t.deepEqual(e.prepend.slice(0, 4).map(([n]) => n), ['Received-SPF', 'Authentication-Results', 'X-Mailmoat-Spam-Score', 'X-Mailmoat-Class']);
  t.is(e.prepend[2][1], '97.53%');
  t.is(e.prepend[3][1], 'Spam');
  const reasons = e.prepend.find(([n]) => n === 'X-Mailmoat-Reasons')![1];
  t.regex(reasons.replace(/\r\n /g, ' '), /^SPF_PASS, =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=\(-55\.13\), BAYES_99\(\+40\.00\), URL_SHORTENER\(\+2\.50\)$/);
  t.is(e.subjectPrefix, 'SPAM!! SPF-NG!!');
  t.is(formatScore(100), '100.00%');
  t.deepEqual(stamp(f, 'Spam', undefined, [], false, 'mailmoat.test').prepend.map(([n]) => n), ['Received-SPF', 'Authentication-Results']);
  t.is(stamp(findings({ spam: { score: 0, classHint: 'Unknown', reasons: [] } }), 'Unknown', undefined, [], true, 'mailmoat.test').prepend.some(([n]) => n === 'X-Mailmoat-Spam-Score'), false);
});

test('long header values fold under 80 columns', (t) => {
  const v = fold('X-Mailmoat-Reasons', Array.from({ length: 20 }, (_, i) => `REASON_NUMBER_${i}(+1.00)`));
  const lines = `X-Mailmoat-Reasons: ${v}`.split('\r\n');
  t.true(lines.length > 1);
  for (const l of lines) t.true(l.length <= 80, l);
  t.true(lines.slice(1).every((l) => l.startsWith(' ')));
});
