// The classifier the pipeline and the admin's tools use: score a message (0–100 %, a class hint
// and the reasons), learn from feedback one message at a time, and unlearn when a verdict is
// reversed. Lessons (label and feature ids) are what is stored (model-store.ts); the weights are
// a refit of the starter model and every lesson in a fixed order (model.ts), so the model after a
// set of lessons is the same whatever order they came in, and untraining removes exactly one
// lesson. A lesson takes effect at once as an online step; the refit follows when training has
// been quiet for a moment (or when asked, as `mailmoat train` does at its end) and also refits the
// calibration (calibration.ts). Training the same message again with the same label does nothing;
// with the other label it replaces the earlier lesson (as sa-learn does).
import { createHash } from 'node:crypto';
import type { Store } from '../store/store.ts';
import { extractFeatures } from './features.ts';
import { DEFAULT_CALIBRATION, type Calibration } from './calibration.ts';
import { LinearModel, vectorize, HASH_BITS, type Lesson } from './model.ts';
import { refitInWorker } from './refit.ts';
import { encodeIds, FEATURE_VERSION, ModelStore, type Label, type ModelMeta } from './model-store.ts';
import { scoreMessage, type ClassifierInput, type ClassifierResult, type ScoringModel, type ScoringOptions } from './score.ts';
import { readStarterModel, type StarterModel } from './starter-model.ts';

export type { Calibration } from './calibration.ts';
export type { ClassHint, ClassifierInput, ClassifierResult, Reason, ScoringModel } from './score.ts';

export interface ClassifierOptions {
  /** Score (%) from which a message is Spam. */
  spamThreshold?: number;
  /** Score (%) from which a message is Unsure. */
  unsureThreshold?: number;
  /** Reasons returned per message. */
  maxReasons?: number;
  /** Quiet time after the last lesson before the model is refitted (default 2000). */
  refitDelayMs?: number;
  /** A starter model to use instead of the shipped file (the accuracy benchmark's, built from its train split). */
  starter?: StarterModel;
}

/** Defaults, the same as the configuration's filtering.spamThreshold / unsureThreshold. */
export const DEFAULT_SPAM_THRESHOLD = 90;
export const DEFAULT_UNSURE_THRESHOLD = 60;

export class NotMailError extends Error {
  constructor() {
    super('this is not a mail message (no header fields found); give an RFC 5322 message (.eml), an mbox, or an Outlook .msg');
    this.name = 'NotMailError';
  }
}

export class Classifier {
  private readonly model = new LinearModel();
  private readonly persist: ModelStore;
  private meta: ModelMeta | undefined;
  private readonly options: ScoringOptions;
  private readonly refitDelayMs: number;
  private readonly lessons = new Map<string, Lesson>();
  private starter: StarterModel | undefined;
  private readonly starterGiven: StarterModel | undefined;
  private calibrationNow: Calibration = DEFAULT_CALIBRATION;
  private refitTimer: NodeJS.Timeout | undefined;
  /** Training steps and refits run one after another. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(store: Store, options: ClassifierOptions) {
    this.persist = new ModelStore(store);
    this.options = {
      spamThreshold: options.spamThreshold ?? DEFAULT_SPAM_THRESHOLD,
      unsureThreshold: options.unsureThreshold ?? DEFAULT_UNSURE_THRESHOLD,
      maxReasons: options.maxReasons ?? 10,
    };
    this.refitDelayMs = options.refitDelayMs ?? 2000;
    this.starterGiven = options.starter;
  }

  /** Opens the model in the store (an empty model if there is none yet) and refits it. */
  static async open(store: Store, options: ClassifierOptions = {}): Promise<Classifier> {
    const c = new Classifier(store, options);
    c.meta = await c.persist.meta();
    if (c.meta) {
      for await (const l of c.persist.lessons()) c.lessons.set(l.hash, l);
      if (c.meta.starter) c.starter = await c.readStarter();
      await c.doRefit();
    }
    return c;
  }

  /** Messages trained: in this store, and in the starter model if one was installed. */
  get counts(): { spam: number; ham: number; starter?: { spam: number; ham: number; source: string } } {
    return { spam: this.meta?.spam ?? 0, ham: this.meta?.ham ?? 0, starter: this.meta?.starter };
  }

  /** How scores map to rates of held mail, and what they were judged on. */
  get calibration(): Calibration {
    return this.calibrationNow;
  }

  async score(input: ClassifierInput): Promise<ClassifierResult> {
    return this.scoreSync(input);
  }

  /** Scoring is synchronous work (in-memory weights); the async signature leaves room for I/O. */
  scoreSync(input: ClassifierInput): ClassifierResult {
    return scoreMessage(this.shared(), this.options, input);
  }

  /** The model as scoring reads it. The weights live in shared memory: other threads may score with them. */
  shared(): ScoringModel {
    const { slope, t90 } = this.calibrationNow;
    return { weights: this.model.weights, trained: Boolean(this.meta), calibration: { slope, t90 } };
  }

  /** Learns a message as spam or ham. Returns false if it was already learned with that label. */
  train(raw: Buffer, label: Label): Promise<boolean> {
    return this.enqueue(() => this.doTrain(raw, label));
  }

  /** Takes back an earlier training of the message with this label. False if there was none. */
  untrain(raw: Buffer, label: Label): Promise<boolean> {
    return this.enqueue(() => this.doUntrain(raw, label));
  }

  /** Refits weights and calibration from the starter model and the lessons now (after queued training). */
  refit(): Promise<Calibration> {
    clearTimeout(this.refitTimer);
    this.refitTimer = undefined;
    return this.enqueue(async () => { await this.doRefit(); return this.calibrationNow; });
  }

  /** Installs the shipped starter model unless a model exists. False if one existed. */
  installStarterModel(): Promise<boolean> {
    return this.enqueue(async () => {
      if (this.meta) return false;
      const starter = await this.readStarter();
      const meta: ModelMeta = { ...this.emptyMeta(), starter: { spam: starter.spam, ham: starter.ham, source: starter.source } };
      await this.persist.writeMeta(meta);
      this.meta = meta;
      this.starter = starter;
      await this.doRefit();
      return true;
    });
  }

  private async readStarter(): Promise<StarterModel> {
    const starter = this.starterGiven ?? await readStarterModel();
    if (starter.hashBits !== HASH_BITS) throw new Error(`the starter model file uses ${starter.hashBits}-bit hashing, this version ${HASH_BITS}; rebuild it (npm run model:starter)`);
    return starter;
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(job);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private emptyMeta(): ModelMeta {
    return { format: 2, hashBits: HASH_BITS, featureVersion: FEATURE_VERSION, spam: 0, ham: 0 };
  }

  /** A refit once training has been quiet for refitDelayMs (a burst of lessons refits once). */
  private refitSoon(): void {
    clearTimeout(this.refitTimer);
    this.refitTimer = setTimeout(() => {
      this.refitTimer = undefined;
      this.enqueue(() => this.doRefit()).catch((err: Error) => {
        // Nobody awaits this refit: say it where the daemon's output goes; the next one tries again.
        console.error(`mailmoat: refitting the classifier failed, its latest lessons count only as online steps until the next refit: ${err.message}`);
      });
    }, this.refitDelayMs);
    this.refitTimer.unref();
  }

  /**
   * Refits in a worker thread (refit.ts); scoring goes on meanwhile, training waits in the queue.
   * The refit and its cross-validation folds are computed in a scratch table of the weights' size
   * (32 MiB) made for this refit only: kept between refits, it stayed resident for nothing (issue 12).
   */
  private async doRefit(): Promise<void> {
    const scratch = new Float64Array(new SharedArrayBuffer(this.model.weights.byteLength));
    const prior = this.starter && { ids: this.starter.ids, weights: this.starter.weights };
    const own = await refitInWorker({ into: scratch, prior, lessons: [...this.lessons.values()] });
    const w = this.model.weights;
    // Copied entry by entry where they differ: analysis threads keep scoring while this runs.
    for (let i = 0; i < w.length; i++) if (w[i] !== scratch[i]) w[i] = scratch[i];
    this.calibrationNow = own ?? this.starter?.calibration ?? DEFAULT_CALIBRATION;
  }

  private async doTrain(raw: Buffer, label: Label): Promise<boolean> {
    const f = extractFeatures(raw);
    if (!f.isMail) throw new NotMailError();
    const hash = messageHash(raw);
    const earlier = this.lessons.get(hash);
    if (earlier && earlier.spam === (label === 'spam')) return false;
    const v = vectorize(f.tokens);
    const meta = { ...(this.meta ?? this.emptyMeta()) };
    if (earlier) meta[earlier.spam ? 'spam' : 'ham'] = Math.max(0, meta[earlier.spam ? 'spam' : 'ham'] - 1);
    meta[label]++;
    const ids = Uint32Array.from(v.ids);
    await this.persist.commit(meta, hash, { label, ids: encodeIds(ids), featureVersion: FEATURE_VERSION });
    this.meta = meta;
    this.lessons.set(hash, { hash, spam: label === 'spam', ids });
    this.model.apply(v, this.model.stepFor(v, label === 'spam'));
    this.refitSoon();
    return true;
  }

  private async doUntrain(raw: Buffer, label: Label): Promise<boolean> {
    const hash = messageHash(raw);
    const earlier = this.lessons.get(hash);
    if (!earlier || earlier.spam !== (label === 'spam') || !this.meta) return false;
    const meta = { ...this.meta, [label]: Math.max(0, this.meta[label] - 1) };
    await this.persist.commit(meta, hash, null);
    this.meta = meta;
    this.lessons.delete(hash);
    this.refitSoon();
    return true;
  }
}


/** Identifies a message for its training record: the hash of its bytes. */
export function messageHash(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}
