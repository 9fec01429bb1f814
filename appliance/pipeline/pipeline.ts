// The filtering pipeline: runs the stages over one spooled message, before the SMTP session answers
// DATA, and returns the reply and what to do with each recipient's copy.
//
//   ┌ analysis (parse → authenticate, inbound only → spam score), in an analysis thread ┐
//   └ antivirus (clamd), at the same time, from this thread                              ┘ → lists → verdict → stamp
//
// The message is read once (the session usually hands over the bytes it spooled) and parsed once;
// every stage adds its findings. Copies to quarantine are stored (durably) before run() returns.
//
// One reply covers every recipient after DATA, so recipients that disagree are reconciled here:
//   - 5xx only when every copy is refused: rejected, or quarantined while `quarantineResponse` is
//     "reject" (quarantined copies are still stored, so an admin can release them);
//   - otherwise 250, and a copy whose verdict was "reject" is quarantined instead — a reject can no
//     longer be expressed for one recipient, and mail is never lost silently.
// Each recipient's copy is judged by that recipient's effective policy (appliance/policy/): its
// thresholds, class actions and tags, SPF and DMARC handling, oversize limit, stamping and
// quarantine response. A message is scanned unless it is larger than every recipient's oversize
// limit; the classifier raises a convicted phish to the highest spam threshold in force, so every
// recipient's policy holds it. With recipients of different quarantine responses, the rule above
// is applied with each copy's own: 550 only when every copy is refused under its own policy.
// A copy that would be quarantined into a full quarantine (appliance/quarantine/quota.ts) is
// delivered with a subject tag instead, or the whole message is answered 452 so the sender
// retries — the admin's choice (`policy.quota.whenFull`); a virus is held whatever the quota.
// clamd failing (down, timeout, error) answers 451 so the sender retries, unless fail-open is
// configured. Any unexpected failure also answers 451: never accept what was not filtered.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { ConfigService } from '../config/config-service.ts';
import type { Filtering, MailDirection } from '../config/schema.ts';
import type { Store } from '../store/store.ts';
import type { Quarantine } from '../quarantine/quarantine-store.ts';
import type { QuarantineQuota } from '../quarantine/quota.ts';
import { effectiveFiltering } from '../policy/policy.ts';
import type { Analysis, AnalysisJob } from './analysis.ts';
import { AnalysisPool } from './analysis-pool.ts';
import type { ClamdTarget } from './clamd-client.ts';
import type { Findings, MessageContext, PipelineOutcome, RecipientOutcome, StageContext } from './message-context.ts';
import { antivirusStage } from './antivirus.ts';
import { withConnection } from './connection.ts';
import { createCachingResolver, systemResolver, type CachingResolver, type Resolver } from '../dns/cache.ts';
import { decideLists, factsFrom, type ListDecision, type PriorityMode } from './lists.ts';
import { ListsStore, normalizeAddressOrDomain } from '../lists/lists-store.ts';
import type { Scorer } from './spam.ts';
import { stamp } from './stamp.ts';
import { decide, type Verdict } from './verdict.ts';

export interface PipelineDeps {
  config: ConfigService;
  store: Store;
  quarantine: Quarantine;
  scorer?: Scorer;
  /**
   * DNS for SPF/DKIM/DMARC: the appliance's cache (main.ts), or a bare resolver (tests), which is
   * then cached here; the system resolver when not given.
   */
  resolver?: Resolver | CachingResolver;
  /** Overrides `filtering.antivirus.clamd` (tests start their own clamd). */
  clamd?: ClamdTarget;
  /** Share the instance the console's API writes through; opened from `store` when not given. */
  lists?: ListsStore;
  /** Where an analysis thread's failure is reported. */
  say?: (line: string) => void;
  /** Quarantine quotas; without it nothing is limited. */
  quota?: QuarantineQuota;
}

export interface Pipeline {
  run(ctx: MessageContext): Promise<PipelineOutcome>;
  /** The recipient block lists, for RCPT time. Outbound lists belong to the sender, so pass it. */
  checkRecipient(direction: MailDirection, address: string, sender?: string): Promise<'ok' | 'blocked'>;
  /** Whether an inbound recipient's sender lists allow the sender (greylisting skips it), at RCPT time. */
  senderAllowed(recipient: string, recipientDomain: string, sender: string): Promise<boolean>;
  lists(): Promise<ListsStore>;
  /** Ends the analysis threads. */
  close(): Promise<void>;
}

/** Threads for `filtering.analysisThreads`: 0 means one fewer than the CPUs, 1 to 4. */
const AUTO_THREADS = Math.min(4, Math.max(1, os.availableParallelism() - 1));
export function analysisThreadsFor(setting: number): number {
  return setting > 0 ? setting : AUTO_THREADS;
}

/** A stuck analysis (a parser in a loop) is given up after this; the sender is told to retry. */
const ANALYSIS_TIMEOUT_MS = 120_000;

const REFUSING = (o: RecipientOutcome, quarantineRejects: boolean) =>
  o.disposition === 'reject' || (o.disposition === 'quarantine' && quarantineRejects);

export function createPipeline(deps: PipelineDeps): Pipeline {
  // A cache made here follows filtering.dnsCacheMaxSeconds itself; one handed in, its owner does.
  const ownCache = typeof deps.resolver !== 'object';
  const dns = typeof deps.resolver === 'object' ? deps.resolver
    : createCachingResolver(deps.resolver ?? systemResolver(), { maxSeconds: deps.config.current.filtering.dnsCacheMaxSeconds });
  let listsP: Promise<ListsStore> | undefined = deps.lists ? Promise.resolve(deps.lists) : undefined;
  const lists = () => (listsP ??= ListsStore.open(deps.store));

  const priorityFor = (domain: string): PriorityMode => {
    const p = deps.config.current.filtering.listPriority;
    return p.domains[domain.toLowerCase()] ?? p.default;
  };

  async function run(msg: MessageContext): Promise<PipelineOutcome> {
    const findings: Findings = { lists: {}, timings: {} };
    try {
      return await runStages(msg, findings);
    } catch (err) {
      return { reply: { code: 451, message: `4.3.0 Temporary filtering failure, please try again later (${(err as Error).message})` }, recipients: [], findings };
    }
  }

  // A scorer whose model lives in shared memory (the classifier) can score in the analysis
  // threads; any other scorer (a test's stand-in) keeps the analysis on this thread.
  // The threads cache DNS answers themselves; their misses come to this thread's cache, which
  // tells them how long each answer may still be kept.
  const pool = !deps.scorer || deps.scorer.shared
    ? new AnalysisPool({ resolver: dns.answer, weights: deps.scorer?.shared?.().weights, jobTimeoutMs: ANALYSIS_TIMEOUT_MS, say: deps.say })
    : undefined;

  function analysis(job: AnalysisJob, thresholds: { spam: number; unsure: number }): Promise<Analysis> {
    const cfg = deps.config.current.filtering;
    if (ownCache) dns.setMaxSeconds(cfg.dnsCacheMaxSeconds);
    // Loaded only here: the daemon's analyses run in its threads, and analysis.ts's parser and
    // SPF/DKIM/DMARC libraries would cost this thread memory for nothing (issue 12).
    if (!pool) return import('./analysis.ts').then(({ analyse }) => analyse(job, { resolver: dns.resolve, scorer: deps.scorer }));
    const threads = analysisThreadsFor(cfg.analysisThreads);
    if (threads !== pool.size) pool.resize(threads);
    const model = deps.scorer?.shared?.();
    return pool.run(job, model ? { trained: model.trained, calibration: model.calibration, spamThreshold: thresholds.spam, unsureThreshold: thresholds.unsure } : undefined, cfg.dnsCacheMaxSeconds);
  }

  async function runStages(msg: MessageContext, findings: Findings): Promise<PipelineOutcome> {
    const cfg = deps.config.current.filtering;
    const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
      const t0 = performance.now();
      try { return await f(); } finally { findings.timings[name] = performance.now() - t0; }
    };
    const store = await lists();
    const policies = new Map<string, Filtering>(msg.recipients.map((r) => [r.address, msg.direction === 'inbound' ? effectiveFiltering(deps.config.current, r) : cfg]));
    const all = [...policies.values()];
    if (!all.length) all.push(cfg);
    const largest = Math.max(...all.map((p) => p.oversize.maxBytes));
    let analysed: Analysis | undefined;
    if (msg.size > largest) {
      // Too large to scan: neither clamd nor the analysis sees it; lists, then the oversize action, decide.
      findings.oversize = largest;
      findings.antivirus = { status: 'skipped' };
    } else {
      const raw = msg.raw ?? await timed('read', () => readFile(msg.spoolPath));
      const sc: StageContext = { msg, raw, findings };
      const job: AnalysisJob = {
        raw, msg: { id: msg.id, direction: msg.direction, client: msg.client, mailFrom: msg.mailFrom },
        hostname: deps.config.current.hostname, spfNg: cfg.spf.ngResults, headerNames: store.conditionHeaders(),
      };
      // clamd scans while the analysis thread parses, authenticates and scores.
      [analysed] = await Promise.all([
        analysis(job, { spam: Math.max(...all.map((p) => p.spamThreshold)), unsure: Math.min(...all.map((p) => p.unsureThreshold)) }),
        timed('antivirus', () => antivirusStage(sc, {
          enabled: cfg.antivirus.enabled,
          target: deps.clamd ?? cfg.antivirus.clamd,
          timeoutMs: cfg.antivirus.timeoutSeconds * 1000,
        })),
      ]);
      Object.assign(findings.timings, analysed.timings);
      findings.parse = analysed.parse;
      findings.auth = analysed.auth;
      if (findings.antivirus?.status === 'failed' && cfg.antivirus.onFailure === 'tempfail') {
        return { reply: { code: 451, message: '4.7.1 The virus scanner is unavailable, please try again later' }, recipients: [], findings };
      }
    }

    const facts = factsFrom(msg.mailFrom, analysed?.parse, analysed?.headers);
    const decisions = new Map<string, ListDecision | undefined>();
    await timed('lists', async () => {
      for (const r of msg.recipients) {
        const priorityDomain = msg.direction === 'inbound' ? r.domain || r.address.slice(r.address.lastIndexOf('@') + 1) : msg.mailFrom.slice(msg.mailFrom.lastIndexOf('@') + 1);
        const d = decideLists(store, facts, { direction: msg.direction, recipient: r.address, recipientDomain: r.domain, priority: priorityFor(priorityDomain) });
        decisions.set(r.address, d);
        findings.lists[r.address] = d?.hit;
      }
    });

    // The score counts only when some copy's class depends on it (not all decided by virus or lists).
    const needsScore = analysed !== undefined && findings.antivirus?.status !== 'infected' &&
      msg.recipients.some((r) => { const d = decisions.get(r.address); return !d || d.effect === 'quarantine'; });
    if (needsScore && analysed?.spam) findings.spam = withConnection(analysed.spam, msg.connection);
    if (msg.connection) findings.connection = msg.connection;

    const verdicts = new Map<string, Verdict>();
    for (const r of msg.recipients) verdicts.set(r.address, decide(findingsFor(findings, policies.get(r.address)!, msg.size), decisions.get(r.address), policies.get(r.address)!, msg.direction));

    let outcomes: RecipientOutcome[] = msg.recipients.map((r) => {
      const v = verdicts.get(r.address)!;
      return {
        address: r.address,
        disposition: v.disposition,
        mainClass: v.mainClass,
        headerEdits: stamp(findings, v.mainClass, decisions.get(r.address)?.hit, v.tags, policies.get(r.address)!.stampHeaders, deps.config.current.hostname),
        ...(v.tags.length && v.disposition === 'deliver' ? { tagged: true } : {}),
        why: v.why,
      };
    });

    if (deps.quota) {
      const full = await deps.quota.admit(msg, outcomes);
      if (full) return { reply: full, recipients: [], findings };
    }

    const allRefused = outcomes.length > 0 && outcomes.every((o) => REFUSING(o, policies.get(o.address)!.quarantineResponse === 'reject'));
    if (!allRefused) {
      outcomes = outcomes.map((o) => (o.disposition === 'reject'
        ? { ...o, disposition: 'quarantine', why: [...o.why, 'rejecting was not possible because other recipients accept the message: quarantined instead'] }
        : o));
    }

    let quarantineId: string | undefined;
    const held = outcomes.filter((o) => o.disposition === 'quarantine');
    if (held.length) {
      await timed('quarantine', async () => {
        const first = held[0];
        const rec = await deps.quarantine.put({
          queueId: msg.id,
          receivedAt: msg.receivedAt,
          direction: msg.direction,
          mailFrom: msg.mailFrom,
          fromHeader: findings.parse?.fromAddress ?? '',
          subject: findings.parse?.subject ?? '',
          messageId: findings.parse?.messageId ?? '',
          size: msg.size,
          mainClass: first.mainClass,
          score: findings.spam && findings.spam.classHint !== 'Unknown' ? findings.spam.score : undefined,
          reasons: findings.spam?.reasons ?? [],
          virus: findings.antivirus?.virus,
          clientIp: msg.client.ip,
          recipients: held.map((o) => ({
            address: o.address,
            domain: msg.recipients.find((r) => r.address === o.address)?.domain ?? '',
            mainClass: o.mainClass,
            headerEdits: o.headerEdits,
            why: o.why,
          })),
        }, msg.spoolPath);
        quarantineId = rec.id;
        await deps.quota?.stored(rec).catch((err: Error) => deps.say?.(`mailmoat: quarantine quota check failed: ${err.message}`));
      });
    }

    return { reply: replyFor(outcomes, allRefused, findings, msg.id), recipients: outcomes, findings, quarantineId };
  }

  return {
    run,
    lists,
    close: async () => { await pool?.close(); },
    async checkRecipient(direction, address, sender = '') {
      const store = await lists();
      const addr = normalizeAddressOrDomain(address);
      const domain = addr.slice(addr.lastIndexOf('@') + 1);
      const owner = direction === 'inbound' ? domain : sender.slice(sender.lastIndexOf('@') + 1);
      const d = decideLists(store, factsFrom(sender, undefined, undefined), {
        direction, recipient: addr, recipientDomain: domain, priority: priorityFor(owner), kinds: ['recipient-block'],
      });
      return d ? 'blocked' : 'ok';
    },
    async senderAllowed(recipient, recipientDomain, sender) {
      const store = await lists();
      // Blocks are asked too, so a block at a level that decides first wins over an allow.
      const d = decideLists(store, factsFrom(sender, undefined, undefined), {
        direction: 'inbound', recipient: normalizeAddressOrDomain(recipient), recipientDomain, priority: priorityFor(recipientDomain), kinds: ['sender-block', 'sender-allow'],
      });
      return d?.effect === 'allow';
    },
  };
}

/**
 * The findings as one recipient's policy reads them: SPF "NG" by its own list of NG results, and
 * a scanned message still over its own oversize limit treated as unscanned for it.
 */
function findingsFor(f: Findings, policy: Filtering, size: number): Findings {
  const spf = f.auth?.spf;
  const ng = spf ? policy.spf.ngResults.includes(spf.result as 'fail' | 'softfail') : false;
  const over = size > policy.oversize.maxBytes && f.oversize !== policy.oversize.maxBytes;
  if ((!spf || spf.ng === ng) && !over) return f;
  return {
    ...f,
    ...(f.auth && spf ? { auth: { ...f.auth, spf: { ...spf, ng } } } : {}),
    ...(over ? { oversize: policy.oversize.maxBytes } : {}),
  };
}

function replyFor(outcomes: RecipientOutcome[], allRefused: boolean, f: Findings, queueId: string): { code: number; message: string } {
  if (!allRefused) return { code: 250, message: `2.0.0 Ok: queued as ${queueId}` };
  if (f.antivirus?.status === 'infected') return { code: 554, message: `5.7.1 Message rejected: it contains a virus (${f.antivirus.virus})` };
  if (f.oversize !== undefined && outcomes.every((o) => o.disposition === 'reject')) {
    return { code: 552, message: `5.3.4 Message too big to be scanned here: the limit is ${f.oversize} bytes` };
  }
  // The outside sender learns only that a person may release it; the quarantine id stays ours
  // (the admin finds it in the message log under the queue id).
  if (outcomes.every((o) => o.disposition === 'quarantine')) {
    return { code: 550, message: '5.7.1 Message not delivered: held for review' };
  }
  const cls = outcomes.find((o) => o.disposition === 'reject')?.mainClass ?? outcomes[0].mainClass;
  return { code: 550, message: `5.7.1 Message rejected as ${cls}` };
}
