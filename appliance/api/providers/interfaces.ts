// What the console needs from the rest of the appliance, as narrow interfaces. The composition
// root (main.ts) passes the real modules (adapted where their shapes differ); any provider left out
// makes its pages answer "not available yet" instead of failing, so the console works on a
// partial appliance and in tests that exercise only one part.
//
// Scope is always passed down as `scope`: 'all' for the appliance admin, else the domains or the
// single mailbox address the caller may see. Providers must apply it; the API also re-checks it
// on every single-item action.

import type { MailDirection } from '../../config/schema.ts';
import type { CalibrationFigures } from '../../i18n/reasons.ts';
import type { LocalText } from '../../i18n/server-messages.ts';
import type { LogField } from '../../logsearch/log-index.ts';
import type { ReportService } from '../../reports/reports.ts';
import type { LocalDate } from '../../stats/calendar.ts';
import type { Counts, GaugeFigures, Granularity } from '../../stats/counters.ts';
import type { Period } from '../../stats/periods.ts';
import type { TopItem, TopKind } from '../../stats/top.ts';

export type Scope = { all: true } | { domains: string[] } | { address: string };

export interface QuarantineQuery {
  scope: Scope;
  sender?: string;
  recipient?: string;
  subject?: string;
  class?: string;
  from?: string; // ISO date-time, inclusive
  to?: string; // ISO date-time, exclusive
  limit: number;
  /** Resume strictly after this index position (from a previous page's `resume`). */
  after?: string;
}

export interface QuarantineItem {
  id: string;
  receivedAt: string;
  sender: string;
  /** The held copies the caller may see (a mailbox user sees only their own). */
  recipients: string[];
  subject: string;
  class: string;
  score?: number;
  size: number;
  virus?: string;
}

export interface ScoreReason {
  name: string;
  /** Logit units it added, to one decimal. */
  score: number;
  /** What was seen, in the caller's language (i18n/reasons.ts) when the catalog knows the reason. */
  description?: string;
  /** The values the description was made from. */
  params?: Record<string, string>;
}

export interface QuarantineDetail extends QuarantineItem {
  fromHeader: string;
  reasons: ScoreReason[];
  /** Why each visible copy was held (list entries, rules). */
  why: string[];
  headers: { name: string; value: string }[];
  text?: string;
  html?: string;
  attachments: { filename: string; contentType: string; size: number }[];
}

export type QuarantineAction = 'release' | 'release-train' | 'allow-release' | 'allow-domain-release' | 'report-spam' | 'block-delete' | 'delete' | 'forward';

export interface QuarantineProvider {
  /** Newest first; `resume` is where the next page starts, absent when nothing more matches. */
  search(q: QuarantineQuery): Promise<{ items: QuarantineItem[]; resume?: string }>;
  /** The message as the scope sees it; undefined when it holds no copy the scope may see. */
  get(id: string, scope: Scope): Promise<QuarantineDetail | undefined>;
  /**
   * Acts on the held copies within the scope; `affected` names them (forward: the new recipient).
   * Undefined when the message holds no copy the scope may see. Throws an Error saying why an
   * action cannot be done (no classifier to train, the null sender cannot be listed, …).
   */
  act(id: string, action: QuarantineAction, opts: { scope: Scope; forwardTo?: string }): Promise<{ affected: string[]; undo?: string[] } | undefined>;
  count(scope: Scope): Promise<number>;
  /**
   * Undoes the release that made queued copy `copy`, for the recipients in scope: the message is
   * held again. Undefined when the scope sees no recipient of such a copy; throws (a localized
   * error) when it was delivered meanwhile or an attempt is in flight.
   */
  undo?(copy: string, opts: { scope: Scope; by: string }): Promise<{ id: string; affected: string[] } | undefined>;
}

export type ListKind = 'sender-allow' | 'sender-block' | 'recipient-allow' | 'recipient-block' | 'condition-block' | 'condition-allow' | 'condition-quarantine' | 'sender-lock' | 'recipient-lock';
export interface ListRef {
  direction: MailDirection;
  kind: ListKind;
  /** 'domain' lists apply to a whole served domain (owner = domain), 'address' lists to one mailbox,
   * 'appliance' lists to every domain (owner '*'; the appliance admin's). */
  scope: 'domain' | 'address' | 'appliance';
  owner: string;
}

export interface ListEntryInput extends ListRef {
  value: string;
  field?: 'envelope-from' | 'from-header' | 'subject' | 'header';
  header?: string;
  mode?: 'exact' | 'partial';
  note?: string;
}

export interface ListEntry extends ListEntryInput {
  id: string;
  createdAt: number;
}

export interface ListsProvider {
  kinds: readonly ListKind[];
  search(q: { scope: Scope; direction?: ListRef['direction']; kind?: ListKind; level?: ListRef['scope']; owner?: string; text?: string; limit: number; offset: number }): Promise<{ items: ListEntry[]; total: number }>;
  /** Throws an Error whose message says what to fix (invalid, duplicate, list full). */
  add(entry: ListEntryInput): Promise<ListEntry>;
  remove(id: string): Promise<boolean>;
  get(id: string): Promise<ListEntry | undefined>;
  exportText(ref: ListRef): string;
  /** Lines not taken: `error` in English, `reason` to show in the caller's language. */
  importText(ref: ListRef, text: string): Promise<{ added: number; skipped: { line: number; text: string; error: string; reason?: LocalText }[] }>;
}

export interface TrainingProvider {
  /** Trains on one uploaded .eml or .msg file; the result says what was learnt or why not. */
  train(file: { filename: string; data: Buffer }, as: 'spam' | 'ham'): Promise<{ ok: boolean; text: LocalText }>;
  /** Messages learnt, and what the score's thresholds mean on them (the classifier's calibration). */
  status?(): { spam: number; ham: number; calibration: CalibrationFigures };
}

export interface LogQuery {
  scope: Scope;
  /** Field → searched text (logsearch/log-index.ts LOG_FIELDS). */
  fields: Partial<Record<LogField, string>>;
  match: 'all' | 'any';
  mode: 'exact' | 'contains';
  /** Received in [from, to) and delivered in [deliveredAfter, deliveredBefore) (ms). */
  from?: number;
  to?: number;
  deliveredAfter?: number;
  deliveredBefore?: number;
  /** Only the newest record in scope, whatever the other criteria (as the hosted filter's "latest only"). */
  latest?: boolean;
  limit: number;
  /** Resume strictly after this message id (from a previous page's `resume`). */
  after?: string;
}

export interface LogItem {
  id: string;
  receivedAt: string;
  server?: string;
  direction: string;
  sender: string;
  /** The From header as logged (RFC 2047 decoded). */
  from?: string;
  /** tagged: passed for delivery with its subject tagged. */
  recipients: { address: string; original?: string; status: string; class?: string; tagged?: boolean }[];
  subject: string;
  messageId?: string;
  clientIp?: string;
  clientHost?: string;
  status: string;
  size: number;
  /** The reply we gave (to DATA, or to RCPT for a recipient refused there). */
  reply?: string;
  /** The latest delivery attempt the caller may see: where to and what the remote answered. */
  delivery?: { at: string; host: string; port: number; code: number; reply: string };
}

export interface LogDetail extends LogItem {
  client?: { ip: string; hostname: string; helo: string; tls: boolean };
  attempts: { at: string; recipients: string[]; host: string; port: number; code: number; reply: string }[];
  finishedAt?: string;
}

export interface MessageLogProvider {
  /** Newest first; `resume` is where the next page starts, absent when the log has no more to walk. */
  search(q: LogQuery): Promise<{ items: LogItem[]; resume?: string }>;
  get(id: string, scope: Scope): Promise<LogDetail | undefined>;
}

export interface FlowCounts {
  received: number;
  delivered: number;
  quarantined: number;
  rejected: number;
  [other: string]: number;
}

export interface StatsProvider {
  last24h(scope: Scope): Promise<FlowCounts>;
}

export interface StatisticsQuery {
  scope: Scope;
  /** One domain (already checked to be in scope); absent: the whole scope. */
  domain?: string;
  period: Period;
  /** A local date within the period (default: today in the zone). */
  date?: LocalDate;
  step?: Granularity;
  /** The current instant (ms), for tests; default now. */
  now?: number;
}

export interface StatisticsSeries {
  /** The domains summed, or 'all' for the appliance's own counters. */
  domains: string[] | 'all';
  zone: string;
  period: Period;
  step: Granularity;
  /** ISO instants: the period's first and the one after its end. */
  start: string;
  end: string;
  /** Dates (YYYY-MM-DD) in the periods before and after. */
  previous?: string;
  next?: string;
  /** Each bucket's counters and, where sampled, the queue's and quarantine's average and peak size. */
  points: { start: string; counts: Counts; gauges?: GaugeFigures }[];
  totals: Counts;
}

/** The local days a table of the period was summed over (top-N, score histogram). */
export interface StatisticsDays {
  domains: string[] | 'all';
  zone: string;
  period: Period;
  /** The first and last local date read (YYYY-MM-DD): whole days, so '24h' reads yesterday and today. */
  firstDay: string;
  lastDay: string;
}

export interface StatisticsTop extends StatisticsDays {
  kind: TopKind;
  /** Largest first; `error` bounds how much a count may overstate the truth (appliance/stats/top.ts). */
  items: TopItem[];
}

export interface StatisticsScores extends StatisticsDays {
  /** Messages scored per bin of `binWidth` points, from 0 up (the last bin includes 100). */
  binWidth: number;
  bins: number[];
}

export interface StatisticsProvider {
  /** Throws a RangeError when the step does not suit the period. */
  series(q: StatisticsQuery): Promise<StatisticsSeries>;
  top(q: StatisticsQuery & { kind: TopKind; limit: number }): Promise<StatisticsTop>;
  scores(q: StatisticsQuery): Promise<StatisticsScores>;
}

export type QueueState = 'new' | 'deferred' | 'sending';
export type QueueAction = 'retry' | 'bounce' | 'delete';

export interface QueueQuery {
  scope: Scope;
  /** Only messages with a recipient at this domain. */
  domain?: string;
  state?: QueueState;
  limit: number;
  offset: number;
}

export interface QueueItem {
  id: string;
  receivedAt: string;
  direction: string;
  sender: string;
  subject?: string;
  size: number;
  /** 'new': not tried yet; 'deferred': a try failed and another is due; 'sending': a try is in flight. */
  state: QueueState;
  /** Only the pending recipients the caller may see. */
  recipients: { address: string; attempts: number; lastError?: string; nextAttemptAt: string }[];
  /** The latest problem among them, and when the next try is due. */
  lastError?: string;
  nextAttemptAt: string;
  /** When it bounces unless delivered. */
  expiresAt: string;
}

export interface QueueProvider {
  size(): Promise<{ messages: number; deferred: number }>;
  /** Oldest first; `total` counts every match. */
  list?(q: QueueQuery): Promise<{ items: QueueItem[]; total: number }>;
  /**
   * Acts on the message's pending recipients within the scope; `by` is who, for the log and the
   * bounce. `domains` are the served domains the recipients acted on belong to. Undefined when
   * nothing in scope is queued; throws a LocalizedError when it cannot be done.
   */
  act?(id: string, action: QueueAction, opts: { scope: Scope; by: string }): Promise<{ affected: string[]; domains: string[] } | undefined>;
}

export interface ServiceState {
  name: string;
  state: 'running' | 'stopped' | 'failed' | 'unknown';
  detail?: string;
}

export interface SystemProvider {
  services(): Promise<ServiceState[]>;
  disks(): Promise<{ mount: string; sizeBytes: number; usedBytes: number; state: 'ok' | 'warning' | 'critical' }[]>;
  network(): Promise<{ name: string; addresses: string[]; mac?: string }[]>;
}

export interface QuotaUsage { name: string; messages: number; bytes: number; maxMessages: number; maxBytes: number; percent: number }

export interface QuotaProvider {
  /** Quarantine use against its quotas: the caller's mailbox, or the domains (with their mailboxes) in scope. */
  usage(scope: Scope): Promise<{ mailboxes: QuotaUsage[]; domains: QuotaUsage[] }>;
}

export interface Providers {
  quarantine?: QuarantineProvider;
  lists?: ListsProvider;
  training?: TrainingProvider;
  log?: MessageLogProvider;
  stats?: StatsProvider;
  statistics?: StatisticsProvider;
  queue?: QueueProvider;
  system?: SystemProvider;
  reports?: ReportService;
  quota?: QuotaProvider;
}

export function scopeOf(p: { role: string; domains: string[]; address?: string }): Scope {
  if (p.role === 'admin') return { all: true };
  if (p.role === 'domain-admin') return { domains: p.domains };
  return { address: p.address ?? '' };
}
