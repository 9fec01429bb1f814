// An analysis thread: runs analyse() (parse, authenticate, score) for the pipeline's pool.
//
// Each thread caches DNS answers itself (most messages then need no DNS at all); a question the
// cache cannot answer goes to the main thread, which asks the appliance's DNS cache (dns/cache.ts)
// and hands back the answer with what is left of its TTL. The classifier's weights arrive once, as
// shared memory; each job says whether a model is trained, its calibration and which thresholds apply.
import { parentPort, workerData } from 'node:worker_threads';
import { scoreMessage } from '../classifier/index.ts';
import { analyse } from './analysis.ts';
import { installDkimKeyMemo } from './dkim-key-memo.ts';
import type { FromWorker, ToWorker, WorkerSetup } from './analysis-protocol.ts';
import { ANSWER_TTL, createCachingResolver, type Resolver, type TtlAnswer } from '../dns/cache.ts';
import type { Scorer } from './spam.ts';

installDkimKeyMemo();
const port = parentPort!;
const setup = workerData as WorkerSetup;
const send = (m: FromWorker) => port.postMessage(m);

let dnsSeq = 0;
const dnsWaiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
const upstream: Resolver = (name, rrtype) => new Promise((resolve, reject) => {
  const id = ++dnsSeq;
  dnsWaiting.set(id, { resolve, reject });
  send({ type: 'dns', id, name, rrtype });
});
// Small: a miss costs a message to the main thread, whose cache holds the many (20 000); a
// thread's copy of every answer that cache holds would double what a flood of new names costs.
const dns = createCachingResolver(upstream, { maxSeconds: 3600, maxEntries: 2000 });

port.on('message', (m: ToWorker) => {
  if (m.type === 'dns') {
    const w = dnsWaiting.get(m.id);
    if (!w) return;
    dnsWaiting.delete(m.id);
    if (m.error) w.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
    else if (m.answer?.ttl !== undefined) w.resolve({ [ANSWER_TTL]: m.answer.ttl, records: m.answer.records } satisfies TtlAnswer);
    else w.resolve(m.answer?.records);
    return;
  }
  dns.setMaxSeconds(m.dnsCacheMaxSeconds);
  const { scoring } = m;
  const scorer: Scorer | undefined = scoring && setup.weights ? {
    score: async (input) => scoreMessage({ weights: setup.weights!, trained: scoring.trained, calibration: scoring.calibration }, { ...scoring, maxReasons: 10 }, input),
  } : undefined;
  const raw = Buffer.from(m.job.raw.buffer, m.job.raw.byteOffset, m.job.raw.byteLength);
  analyse({ ...m.job, raw }, { resolver: dns.resolve, scorer }).then(
    (result) => send({ type: 'done', id: m.id, result }),
    (err: Error) => send({ type: 'failed', id: m.id, message: err.message }),
  );
});
send({ type: 'ready' });
