// Policy resolution: which filtering settings apply to one recipient's copy, and where each value
// comes from. Three levels, the lower one winning where it sets a value:
//   appliance (the `filtering` section) → domain (`policy.domains[<name>]`) → mailbox (`policy.mailboxes[<address>]`).
// A setting a level leaves out is inherited. Per-class actions are inherited class by class: a
// domain that sets only Spam's action keeps the appliance's rules for every other class.
// Only inbound copies have a domain and a mailbox here: outbound mail (whose recipients are
// someone else's) follows the appliance's settings and `filtering.outboundRules`.
// Who may set what: the appliance admin anything; a domain admin only the settings listed in
// `policy.domainsMayOverride`, never quotas (a hosting company's resource limit) — `refusedChanges`
// names what a change would touch beyond that, so the API can refuse it with a clear message.
// Quotas and the feedback switch resolve here too, so this module answers every "which value
// applies to this mailbox" question.
import type { Config, DomainPolicy, Filtering, MailboxPolicy, PolicyOverrides, PolicySetting, QuotaLimits } from '../config/schema.ts';
import { POLICY_SETTINGS } from '../config/schema.ts';

export type PolicySource = 'appliance' | 'domain' | 'mailbox';
export type ClassRule = Filtering['rules'][number];

type ScalarSetting = Exclude<PolicySetting, 'actions'>;
type ValueOf<K extends ScalarSetting> = NonNullable<PolicyOverrides[K]>;

/** Where each flat setting lives in the appliance's `filtering` section. */
const FIELDS: { [K in ScalarSetting]: { get(f: Filtering): ValueOf<K>; set(f: Filtering, v: ValueOf<K>): void } } = {
  spamThreshold: { get: (f) => f.spamThreshold, set: (f, v) => { f.spamThreshold = v; } },
  unsureThreshold: { get: (f) => f.unsureThreshold, set: (f, v) => { f.unsureThreshold = v; } },
  spfNgResults: { get: (f) => f.spf.ngResults, set: (f, v) => { f.spf.ngResults = v; } },
  spfAction: { get: (f) => f.spf.action, set: (f, v) => { f.spf.action = v; } },
  spfTag: { get: (f) => f.spf.tag, set: (f, v) => { f.spf.tag = v; } },
  dmarcHonourReject: { get: (f) => f.dmarc.honourReject, set: (f, v) => { f.dmarc.honourReject = v; } },
  dmarcHonourQuarantine: { get: (f) => f.dmarc.honourQuarantine, set: (f, v) => { f.dmarc.honourQuarantine = v; } },
  oversizeMaxBytes: { get: (f) => f.oversize.maxBytes, set: (f, v) => { f.oversize.maxBytes = v; } },
  oversizeAction: { get: (f) => f.oversize.action, set: (f, v) => { f.oversize.action = v; } },
  quarantineResponse: { get: (f) => f.quarantineResponse, set: (f, v) => { f.quarantineResponse = v; } },
  retentionDays: { get: (f) => f.quarantine.retentionDays, set: (f, v) => { f.quarantine.retentionDays = v; } },
  stampHeaders: { get: (f) => f.stampHeaders, set: (f, v) => { f.stampHeaders = v; } },
  greylisting: { get: (f) => f.greylisting.enabled, set: (f, v) => { f.greylisting.enabled = v; } },
};
const SCALARS = POLICY_SETTINGS.filter((s): s is ScalarSetting => s !== 'actions');

const lower = (s: string) => s.toLowerCase();
export const domainOf = (address: string) => lower(address.slice(address.lastIndexOf('@') + 1));

/** Each level's entries by lower-case key, made once per configuration (a configuration is replaced, never changed). */
const byLowerKey = new WeakMap<object, Map<string, unknown>>();

/** A level's entry, whatever the case of its key. */
function entry<T>(map: Record<string, T>, key: string): T | undefined {
  let index = byLowerKey.get(map) as Map<string, T> | undefined;
  if (!index) {
    index = new Map(Object.entries(map).map(([k, v]) => [lower(k), v]));
    byLowerKey.set(map, index);
  }
  return index.get(lower(key));
}

export function domainPolicy(cfg: Config, domain: string): DomainPolicy | undefined {
  return domain ? entry(cfg.policy.domains, domain) : undefined;
}
export function mailboxPolicy(cfg: Config, address: string): MailboxPolicy | undefined {
  return address ? entry(cfg.policy.mailboxes, address) : undefined;
}

/** The levels below the appliance for one copy, upper first. */
function levels(cfg: Config, domain: string, address: string): [PolicySource, PolicyOverrides][] {
  const out: [PolicySource, PolicyOverrides][] = [];
  const d = domainPolicy(cfg, domain || domainOf(address));
  if (d) out.push(['domain', d]);
  const m = mailboxPolicy(cfg, address);
  if (m) out.push(['mailbox', m]);
  return out;
}

/**
 * The `filtering` settings one recipient's copy is judged by: the appliance's, with the domain's
 * and then the mailbox's values laid over them. Outbound copies (domain '') get the appliance's.
 */
export function effectiveFiltering(cfg: Config, recipient: { address: string; domain: string }): Filtering {
  const lv = recipient.domain ? levels(cfg, recipient.domain, recipient.address) : [];
  if (!lv.length) return cfg.filtering;
  // A copy of only the objects a level can change (the sender's mail path does this per recipient).
  const base = cfg.filtering;
  const f: Filtering = { ...base, spf: { ...base.spf }, dmarc: { ...base.dmarc }, oversize: { ...base.oversize }, quarantine: { ...base.quarantine }, greylisting: { ...base.greylisting } };
  for (const [, o] of lv) {
    for (const k of SCALARS) setIfGiven(f, k, o);
    // A class the level names takes its rule from the level; the first rule for a class wins.
    if (o.actions?.length) f.rules = [...o.actions, ...f.rules.filter((r) => !o.actions!.some((a) => a.class === r.class))];
  }
  return f;
}

function setIfGiven<K extends ScalarSetting>(f: Filtering, k: K, o: PolicyOverrides): void {
  const v = o[k] as ValueOf<K> | undefined;
  if (v !== undefined) FIELDS[k].set(f, v);
}

export interface Resolved<T> { value: T; source: PolicySource }
export interface ResolvedPolicy {
  settings: { [K in ScalarSetting]: Resolved<ValueOf<K>> };
  /** The rule of every class that has one at some level, with the level it came from. */
  actions: (ClassRule & { source: PolicySource })[];
  /** Whether a domain admin may set each setting. */
  overridable: Record<PolicySetting, boolean>;
}

/** Every effective value for a domain (or one of its mailboxes) and the level it comes from. */
export function resolvePolicy(cfg: Config, domain: string, address = ''): ResolvedPolicy {
  const lv = levels(cfg, domain, address);
  const settings = {} as Record<ScalarSetting, Resolved<unknown>>;
  for (const k of SCALARS) {
    let r: Resolved<unknown> = { value: FIELDS[k].get(cfg.filtering), source: 'appliance' };
    for (const [source, o] of lv) if (o[k] !== undefined) r = { value: o[k], source };
    settings[k] = r;
  }
  const byClass = new Map<string, ClassRule & { source: PolicySource }>();
  for (const r of cfg.filtering.rules) if (!byClass.has(r.class)) byClass.set(r.class, { ...r, source: 'appliance' });
  for (const [source, o] of lv) {
    const seen = new Set<string>();
    for (const r of o.actions ?? []) if (!seen.has(r.class)) { seen.add(r.class); byClass.set(r.class, { ...r, source }); }
  }
  const allowed = new Set(cfg.policy.domainsMayOverride);
  return {
    settings: settings as ResolvedPolicy['settings'],
    actions: [...byClass.values()],
    overridable: Object.fromEntries(POLICY_SETTINGS.map((s) => [s, allowed.has(s)])) as Record<PolicySetting, boolean>,
  };
}

/** The settings a level sets, by name. */
export function settingsSet(o: PolicyOverrides | undefined): PolicySetting[] {
  return o ? POLICY_SETTINGS.filter((s) => o[s] !== undefined) : [];
}

/**
 * What a domain admin's change of one level (domain or mailbox) touches that they may not:
 * settings outside `domainsMayOverride` whose value changes, and any change of a quota.
 */
export function refusedChanges(cfg: Config, before: DomainPolicy | MailboxPolicy | undefined, after: DomainPolicy | MailboxPolicy | undefined): string[] {
  const allowed = new Set<string>(cfg.policy.domainsMayOverride);
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const get = (o: object | undefined, k: string) => (o as Record<string, unknown> | undefined)?.[k];
  const refused: string[] = [];
  for (const s of POLICY_SETTINGS) if (!allowed.has(s) && !same(get(before, s), get(after, s))) refused.push(s);
  for (const q of ['quota', 'mailboxQuota', 'domainQuota']) if (!same(get(before, q), get(after, q))) refused.push(q);
  return refused;
}

export interface QuotaPolicy {
  mailbox: Required<QuotaLimits>;
  domain: Required<QuotaLimits>;
  warnPercent: number;
  whenFull: Config['policy']['quota']['whenFull'];
  fullTag: string;
}

const limits = (base: Required<QuotaLimits>, ...over: (QuotaLimits | undefined)[]): Required<QuotaLimits> => {
  const out = { ...base };
  for (const o of over) {
    if (o?.maxBytes !== undefined) out.maxBytes = o.maxBytes;
    if (o?.maxMessages !== undefined) out.maxMessages = o.maxMessages;
  }
  return out;
};

/** The quarantine quotas for a mailbox and its domain (0 = no limit). */
export function quotaFor(cfg: Config, domain: string, address = ''): QuotaPolicy {
  const q = cfg.policy.quota;
  const d = domainPolicy(cfg, domain);
  return {
    mailbox: limits(q.mailbox, d?.mailboxQuota, mailboxPolicy(cfg, address)?.quota),
    domain: limits(q.domain, d?.domainQuota),
    warnPercent: q.warnPercent,
    whenFull: q.whenFull,
    fullTag: q.fullTag,
  };
}

/** Whether the domain's mailbox users may report spam and not-spam (default yes). */
export function feedbackEnabled(cfg: Config, domain: string): boolean {
  return domainPolicy(cfg, domain)?.feedback !== false;
}

/** Who hears about a domain (held outbound mail, quarantine quota): its contact, else the appliance's postmaster. */
export function domainContact(cfg: Config, domain: string): string | undefined {
  return domainPolicy(cfg, domain)?.contact ?? cfg.postmaster;
}

/** The retention of one held copy (days). */
export function retentionDaysFor(cfg: Config, domain: string, address: string): number {
  return effectiveFiltering(cfg, { address, domain: domain || domainOf(address) }).quarantine.retentionDays;
}

/** The shortest retention any level sets, so the retention job knows how far back to look. */
export function shortestRetentionDays(cfg: Config): number {
  let days = cfg.filtering.quarantine.retentionDays;
  for (const o of [...Object.values(cfg.policy.domains), ...Object.values(cfg.policy.mailboxes)]) {
    if (o.retentionDays !== undefined) days = Math.min(days, o.retentionDays);
  }
  return days;
}
