// Analysis threads for the pipeline: the SMTP thread hands each message's parse, authentication
// and scoring (analysis.ts) to the least busy thread and goes on serving sessions. This is what
// lets the daemon use more than one core, as Postfix's and rspamd's process pools do.
//
// A thread that dies fails its jobs (the pipeline answers 451, the sender retries) and is replaced.
// A job that runs past the timeout — a message that sends a parser into a loop — is failed the
// same way and its thread replaced, so no session waits forever on one bad message. A job's time
// counts from when its thread is ready: a thread still loading its modules (slow on a loaded box)
// does not spend the budget of the messages waiting for it.
import type { HeapInfo } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Analysis, AnalysisJob } from './analysis.ts';
import type { FromWorker, JobScoring, ToWorker, WorkerSetup } from './analysis-protocol.ts';
import { ANSWER_TTL, isTtlAnswer, type Resolver } from '../dns/cache.ts';
import { workerModule } from '../runtime/worker-module.ts';

export interface AnalysisPoolOptions {
  /** Answers the DNS questions the threads' own caches cannot: the main thread's cache, whose
   * `answer` tells each thread how long it may keep what it gets (or a bare resolver, in tests). */
  resolver: Resolver;
  /** The classifier's weights in shared memory, when there is a classifier. */
  weights?: Float64Array;
  jobTimeoutMs: number;
  /** Where a thread's crash is reported. */
  say?: (line: string) => void;
}

interface Pending {
  resolve: (a: Analysis) => void;
  reject: (e: Error) => void;
  /** Starts the job's deadline (at once on a ready thread, when it becomes ready otherwise). */
  arm: () => void;
  timer?: NodeJS.Timeout;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Pending>;
  /** Set when the pool shrinks: the thread finishes its jobs, takes no new ones, then ends. */
  retiring: boolean;
  ready: boolean;
}

const WORKER_URL = workerModule(import.meta.url, 'analysis-worker');
/**
 * A thread's young generation (V8's nursery, where a message's short-lived parse objects live).
 * Left to V8 it grows to 128 MiB under a steady stream of messages and stays there, holding
 * garbage between collections: about two thirds of a thread's heap (issue 12, measured with
 * `npm run bench`). 16 MiB keeps scavenges frequent and cheap. A `--max-semi-space-size` given to
 * Node overrides this in every thread: the daemon's 8 (systemd unit, `npm start`) makes it
 * 2 × 8 MiB.
 */
const YOUNG_GENERATION_MB = 16;
/**
 * A thread's old generation limit, sized for the appliance rather than the machine. V8 derives the
 * limit from the RAM it sees (4 GiB of heap on a 24 GiB box) and lets a heap grow up to 4 × its
 * live size between collections when the limit is that large, but only about 1.4 × when it is
 * 512 MiB (its policy for small devices) — and the garbage it lets grow holds the Buffers of past
 * messages (issue 12). 512 MiB is ten times a thread's live heap and several times what parsing
 * a message of the default `filtering.oversize.maxBytes` (25 MiB; larger ones are not analysed)
 * takes; a thread that runs out anyway ends and is replaced like one that crashed (the message is
 * answered 451). The daemon's `--max-old-space-size` (systemd unit, `npm start`) is the same.
 */
export const OLD_GENERATION_MB = 512;

export class AnalysisPool {
  readonly #opts: AnalysisPoolOptions;
  #slots: Slot[] = [];
  #seq = 0;
  #closed = false;

  /** Starts with no threads: `resize` starts them (the pipeline does before its first message). */
  constructor(opts: AnalysisPoolOptions) {
    this.#opts = opts;
  }

  get size(): number {
    return this.#slots.filter((s) => !s.retiring).length;
  }

  /** Each thread's V8 heap figures, its heap limit among them (diagnostics, and the test of the limit). */
  heapStatistics(): Promise<HeapInfo[]> {
    return Promise.all(this.#slots.map((s) => s.worker.getHeapStatistics()));
  }

  run(job: AnalysisJob, scoring: JobScoring | undefined, dnsCacheMaxSeconds: number): Promise<Analysis> {
    const slot = this.#slots.filter((s) => !s.retiring).reduce<Slot | undefined>((best, s) => (!best || s.jobs.size < best.jobs.size ? s : best), undefined);
    if (this.#closed || !slot) return Promise.reject(new Error('the analysis threads are stopped'));
    const id = ++this.#seq;
    return new Promise<Analysis>((resolve, reject) => {
      const pending: Pending = { resolve, reject, arm: () => {
        pending.timer = setTimeout(() => {
          slot.jobs.delete(id);
          reject(new Error(`analysing the message took longer than ${Math.round(this.#opts.jobTimeoutMs / 1000)} s`));
          this.#opts.say?.(`mailmoat: an analysis thread took too long over message ${job.msg.id}; replacing the thread`);
          // Out of service at once (new jobs go to its replacement); its other jobs fail as it ends.
          if (!slot.retiring && !this.#closed) {
            slot.retiring = true;
            this.#slots.push(this.#spawn());
          }
          void slot.worker.terminate();
        }, this.#opts.jobTimeoutMs);
      } };
      slot.jobs.set(id, pending);
      if (slot.ready) pending.arm();
      slot.worker.postMessage({ type: 'job', id, job, scoring, dnsCacheMaxSeconds } satisfies ToWorker);
    });
  }

  /** Grows or shrinks the pool; shrinking lets the retired threads finish what they have. */
  resize(size: number): void {
    const active = this.#slots.filter((s) => !s.retiring);
    for (let i = active.length; i < size; i++) this.#slots.push(this.#spawn());
    for (const slot of active.slice(size)) {
      slot.retiring = true;
      if (slot.jobs.size === 0) void slot.worker.terminate();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }

  #spawn(): Slot {
    const setup: WorkerSetup = this.#opts.weights ? { weights: this.#opts.weights } : {};
    const worker = new Worker(WORKER_URL, { workerData: setup, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB, maxOldGenerationSizeMb: OLD_GENERATION_MB } });
    worker.unref();
    const slot: Slot = { worker, jobs: new Map(), retiring: false, ready: false };
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') {
        slot.ready = true;
        for (const p of slot.jobs.values()) p.arm();
        return;
      }
      if (m.type === 'dns') {
        this.#opts.resolver(m.name, m.rrtype).then(
          (answer) => worker.postMessage({
            type: 'dns', id: m.id, answer: isTtlAnswer(answer) ? { records: answer.records, ttl: answer[ANSWER_TTL] } : { records: answer },
          } satisfies ToWorker),
          (err: NodeJS.ErrnoException) => worker.postMessage({ type: 'dns', id: m.id, error: { code: err.code, message: err.message } } satisfies ToWorker),
        );
        return;
      }
      const p = slot.jobs.get(m.id);
      if (!p) return; // timed out already
      slot.jobs.delete(m.id);
      clearTimeout(p.timer);
      if (m.type === 'done') p.resolve(m.result);
      else p.reject(new Error(m.message));
      if (slot.retiring && slot.jobs.size === 0) void worker.terminate();
    });
    worker.on('error', (err) => this.#opts.say?.(`mailmoat: an analysis thread failed: ${err.stack ?? err.message}`));
    worker.on('exit', (code) => {
      for (const p of slot.jobs.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`the analysis thread stopped (exit code ${code}) while checking the message`));
      }
      slot.jobs.clear();
      const at = this.#slots.indexOf(slot);
      if (at < 0) return;
      if (this.#closed || slot.retiring) this.#slots.splice(at, 1);
      else this.#slots[at] = this.#spawn();
    });
    return slot;
  }
}
