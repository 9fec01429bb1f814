// What the console needs from the rest of the appliance, as narrow interfaces. The composition
// root (main.ts) passes the real modules (adapted where their shapes differ); any provider left out
// makes its pages answer "not available yet" instead of failing, so the console works on a
// partial appliance and in tests that exercise only one part.
//
// Scope is always passed down as `scope`: 'all' for the appliance admin, else the domains or the
// single mailbox address the caller may see. Providers must apply it; the API also re-checks it
// on every single-item action.

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
  offset: number;
}

export interface QuarantineItem {
  id: string;
  receivedAt: string;
  sender: string;
  recipients: string[];
  subject: string;
  class: string;
  score: number;
  size: number;
}

export interface ScoreReason {
  name: string;
  score: number;
  description?: string;
}

export interface QuarantineDetail extends QuarantineItem {
  reasons: ScoreReason[];
  headers: { name: string; value: string }[];
  text?: string;
  html?: string;
  attachments: { filename: string; contentType: string; size: number }[];
}

export type QuarantineAction = 'release' | 'release-train' | 'allow-release' | 'block-delete' | 'delete' | 'forward';

export interface QuarantineProvider {
  search(q: QuarantineQuery): Promise<{ items: QuarantineItem[]; total: number }>;
  get(id: string): Promise<QuarantineDetail | undefined>;
  act(id: string, action: QuarantineAction, opts: { actor: string; forwardTo?: string }): Promise<{ ok: boolean; message?: string }>;
  count(scope: Scope): Promise<number>;
}

export interface ListEntry {
  id: string;
  list: string;
  /** 'domain' entries apply to a whole domain, 'address' entries to one mailbox, 'global' to all. */
  scope: 'global' | 'domain' | 'address';
  owner?: string; // the domain or address of a scoped entry
  value: string;
  comment?: string;
  createdAt?: string;
}

export interface ListInfo {
  name: string;
  direction: 'inbound' | 'outbound';
  description: string;
}

export interface ListsProvider {
  lists(): ListInfo[];
  search(q: { list?: string; scope: Scope; text?: string; limit: number; offset: number }): Promise<{ items: ListEntry[]; total: number }>;
  add(entry: Omit<ListEntry, 'id' | 'createdAt'>): Promise<ListEntry>;
  remove(id: string): Promise<ListEntry | undefined>;
  get(id: string): Promise<ListEntry | undefined>;
}

export interface TrainingProvider {
  /** Trains on one uploaded .eml or .msg file; the result says what was learnt or why not. */
  train(file: { filename: string; data: Buffer }, as: 'spam' | 'ham'): Promise<{ ok: boolean; message: string }>;
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

export interface QueueProvider {
  size(): Promise<{ messages: number; deferred: number }>;
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

export interface Providers {
  quarantine?: QuarantineProvider;
  lists?: ListsProvider;
  training?: TrainingProvider;
  stats?: StatsProvider;
  queue?: QueueProvider;
  system?: SystemProvider;
}

export function scopeOf(p: { role: string; domains: string[]; address?: string }): Scope {
  if (p.role === 'admin') return { all: true };
  if (p.role === 'domain-admin') return { domains: p.domains };
  return { address: p.address ?? '' };
}
