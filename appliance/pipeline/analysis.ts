// The CPU-heavy part of the pipeline, as one unit of work that can run in another thread:
// parse (once, classifier/mime.ts), authenticate (mailauth) and score (the classifier, reading that parse). It reads only the
// message bytes and a few plain facts, and answers plain data, so the SMTP thread can hand it to
// an analysis thread (analysis-pool.ts) and meanwhile stream the same bytes to clamd.
//
// Scoring is done before the lists are consulted, so it is sometimes wasted on a message a list
// decides; the pipeline then drops the score. That costs less than a second trip to the thread.
import { performance } from 'node:perf_hooks';
import type { AuthFindings, MessageContext, ParseFindings, SpamFindings, StageContext } from './message-context.ts';
import { authStage } from './auth.ts';
import type { Resolver } from '../dns/cache.ts';
import { parseStage } from './parse.ts';
import { spamStage, type Scorer } from './spam.ts';

export interface AnalysisJob {
  raw: Buffer;
  msg: Pick<MessageContext, 'id' | 'direction' | 'client' | 'mailFrom'>;
  /** Our host name: the authserv-id of Authentication-Results. */
  hostname: string;
  /** SPF results that count as NG. */
  spfNg: readonly string[];
  /** Headers whose values the condition lists match on. */
  headerNames: readonly string[];
}

export interface Analysis {
  parse?: ParseFindings;
  /** Decoded values of the job's `headerNames`, for the condition lists. */
  headers: Record<string, string[]>;
  auth?: AuthFindings;
  spam?: SpamFindings;
  timings: Record<string, number>;
}

export async function analyse(job: AnalysisJob, deps: { resolver: Resolver; scorer?: Scorer }): Promise<Analysis> {
  const msg: MessageContext = { ...job.msg, receivedAt: 0, spoolPath: '', size: job.raw.length, recipients: [] };
  const sc: StageContext = { msg, raw: job.raw, headerNames: job.headerNames, findings: { lists: {}, timings: {} } };
  const timed = async (name: string, f: () => Promise<void>) => {
    const t0 = performance.now();
    await f();
    sc.findings.timings[name] = performance.now() - t0;
  };
  await timed('parse', () => parseStage(sc));
  if (msg.direction === 'inbound') {
    await timed('auth', () => authStage(sc, { resolver: deps.resolver, hostname: job.hostname, spfNg: job.spfNg }));
  }
  await timed('spam', () => spamStage(sc, deps.scorer));
  const { parse, auth, spam, timings } = sc.findings;
  return { parse, headers: sc.headers ?? {}, auth, spam, timings };
}
