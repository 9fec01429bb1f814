// Policy resolution (appliance/policy/): appliance → domain → mailbox, unset = inherited, per-class
// actions inherited class by class, the level each effective value comes from, what a domain
// admin may change, quotas and retention per level, and the configuration file's checks.
import test from 'ava';
import { validateConfig } from '../../appliance/config/validate.ts';
import type { Config } from '../../appliance/config/schema.ts';
import { effectiveFiltering, feedbackEnabled, quotaFor, refusedChanges, resolvePolicy, retentionDaysFor, shortestRetentionDays } from '../../appliance/policy/policy.ts';

function config(policy: Record<string, unknown>, filtering: Record<string, unknown> = {}): Config {
  const r = validateConfig({
    domains: [{ name: 'a.example', routes: [{ host: '127.0.0.1' }] }, { name: 'b.example', routes: [{ host: '127.0.0.1' }] }],
    filtering, policy,
  });
  if (!r.ok) throw new Error(r.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return r.config;
}

test('unset values are inherited: appliance, then domain, then mailbox, with the source of each', (t) => {
  const cfg = config({
    domains: { 'a.example': { spamThreshold: 80, spfAction: 'tag', actions: [{ class: 'Spam', action: 'tag', tag: 'MEIWAKU!!' }] } },
    mailboxes: { 'tanaka@a.example': { spamThreshold: 95, retentionDays: 7 } },
  }, { spamThreshold: 90, unsureThreshold: 60 });
  const domain = resolvePolicy(cfg, 'a.example');
  t.deepEqual(domain.settings.spamThreshold, { value: 80, source: 'domain' });
  t.deepEqual(domain.settings.unsureThreshold, { value: 60, source: 'appliance' });
  t.deepEqual(domain.settings.spfAction, { value: 'tag', source: 'domain' });
  const mailbox = resolvePolicy(cfg, 'a.example', 'Tanaka@A.example');
  t.deepEqual(mailbox.settings.spamThreshold, { value: 95, source: 'mailbox' });
  t.deepEqual(mailbox.settings.retentionDays, { value: 7, source: 'mailbox' });
  t.deepEqual(mailbox.settings.spfAction, { value: 'tag', source: 'domain' });
  // Class by class: Spam from the domain, the rest from the appliance.
  t.like(mailbox.actions.find((a) => a.class === 'Spam'), { action: 'tag', tag: 'MEIWAKU!!', source: 'domain' });
  t.like(mailbox.actions.find((a) => a.class === 'Virus'), { action: 'reject', source: 'appliance' });
  // Another domain, and outbound mail, get the appliance's values.
  t.deepEqual(resolvePolicy(cfg, 'b.example').settings.spamThreshold, { value: 90, source: 'appliance' });
  t.is(effectiveFiltering(cfg, { address: 'tanaka@a.example', domain: '' }), cfg.filtering);
});

test('the effective filtering settings of a copy: the first rule for a class is the lowest level\'s', (t) => {
  const cfg = config({
    domains: { 'a.example': { actions: [{ class: 'Spam', action: 'tag', tag: 'MEIWAKU!!' }], stampHeaders: false } },
    mailboxes: { 'boss@a.example': { actions: [{ class: 'Spam', action: 'quarantine' }], quarantineResponse: 'accept', spfNgResults: ['fail', 'softfail'] } },
  });
  const user = effectiveFiltering(cfg, { address: 'user@a.example', domain: 'a.example' });
  t.like(user.rules.find((r) => r.class === 'Spam'), { action: 'tag', tag: 'MEIWAKU!!' });
  t.false(user.stampHeaders);
  const boss = effectiveFiltering(cfg, { address: 'boss@a.example', domain: 'a.example' });
  t.like(boss.rules.find((r) => r.class === 'Spam'), { action: 'quarantine' });
  t.like(boss.rules.find((r) => r.class === 'Unsure'), { action: 'tag', tag: 'UNSURE!!' });
  t.is(boss.quarantineResponse, 'accept');
  t.deepEqual(boss.spf.ngResults, ['fail', 'softfail']);
  t.is(cfg.filtering.quarantineResponse, 'reject', 'the appliance defaults are not changed');
});

test('a domain admin may change only the settings the appliance admin allows, and never quotas', (t) => {
  const cfg = config({ domainsMayOverride: ['spamThreshold', 'actions'] });
  t.deepEqual(refusedChanges(cfg, undefined, { spamThreshold: 70, actions: [{ class: 'Spam', action: 'tag', tag: 'X' }] }), []);
  t.deepEqual(refusedChanges(cfg, undefined, { spamThreshold: 70, stampHeaders: false }), ['stampHeaders']);
  t.deepEqual(refusedChanges(cfg, undefined, { domainQuota: { maxMessages: 10_000 } }), ['domainQuota']);
  // A value the appliance admin set and the domain admin leaves as it is does not count.
  t.deepEqual(refusedChanges(cfg, { stampHeaders: false, spamThreshold: 80 }, { stampHeaders: false, spamThreshold: 60 }), []);
  t.deepEqual(refusedChanges(cfg, { stampHeaders: false }, {}), ['stampHeaders'], 'removing it is a change too');
  // feedback and contact are the domain's own business.
  t.deepEqual(refusedChanges(cfg, undefined, { feedback: false, contact: 'it@a.example' }), []);
  t.deepEqual(resolvePolicy(cfg, 'a.example').overridable.spamThreshold, true);
  t.deepEqual(resolvePolicy(cfg, 'a.example').overridable.quarantineResponse, false);
});

test('quotas, retention and feedback resolve per level', (t) => {
  const cfg = config({
    quota: { mailbox: { maxMessages: 100 }, domain: { maxBytes: 1_000_000 } },
    domains: { 'a.example': { mailboxQuota: { maxMessages: 50 }, feedback: false, retentionDays: 14 } },
    mailboxes: { 'vip@a.example': { quota: { maxBytes: 5000 }, retentionDays: 3 } },
  });
  t.like(quotaFor(cfg, 'a.example', 'vip@a.example'), { mailbox: { maxMessages: 50, maxBytes: 5000 }, domain: { maxBytes: 1_000_000, maxMessages: 0 }, warnPercent: 80 });
  t.like(quotaFor(cfg, 'b.example', 'x@b.example'), { mailbox: { maxMessages: 100, maxBytes: 0 } });
  t.false(feedbackEnabled(cfg, 'A.example'));
  t.true(feedbackEnabled(cfg, 'b.example'));
  t.is(retentionDaysFor(cfg, 'a.example', 'vip@a.example'), 3);
  t.is(retentionDaysFor(cfg, 'a.example', 'x@a.example'), 14);
  t.is(retentionDaysFor(cfg, 'b.example', 'x@b.example'), 30);
  t.is(shortestRetentionDays(cfg), 3);
});

test('the configuration file: unknown domains and mailboxes, misspelt settings and settings outside the list are refused with their paths', (t) => {
  const r = validateConfig({
    domains: [{ name: 'a.example', routes: [{ host: '127.0.0.1' }] }],
    policy: {
      domainsMayOverride: ['spamThreshold', 'colour'],
      domains: { 'a.example': { spamThresold: 80, retentionDays: 31 }, 'other.example': { spamThreshold: 50 } },
      mailboxes: { 'x@other.example': { spamThreshold: 50 } },
    },
  });
  t.false(r.ok);
  const paths = r.ok ? [] : r.problems.map((p) => p.path);
  t.true(paths.includes('/policy/domainsMayOverride/1'), paths.join(' '));
  t.true(paths.includes('/policy/domains/a.example/retentionDays'), paths.join(' '));
  t.true(!r.ok && r.problems.some((p) => p.path === '/policy/domains/a.example' && p.key === 'problem.unknown-keys' && p.params?.keys === 'spamThresold'));
  const served = validateConfig({
    domains: [{ name: 'a.example', routes: [{ host: '127.0.0.1' }] }],
    policy: { domains: { 'other.example': { spamThreshold: 50 } }, mailboxes: { 'x@other.example': { spamThreshold: 50 } } },
  });
  t.false(served.ok);
  t.deepEqual(served.ok ? [] : served.problems.map((p) => [p.path, p.key]), [
    ['/policy/domains/other.example', 'problem.policy-not-served'],
    ['/policy/mailboxes/x@other.example', 'problem.policy-not-served'],
  ]);
});
