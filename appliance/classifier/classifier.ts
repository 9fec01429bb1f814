// The classifier the pipeline and the admin's tools use: score a message (0–100 %, a class hint
// and the reasons), learn from feedback one message at a time, and unlearn when a verdict is
// reversed. The model's weights are kept in memory and persisted step by step (model-store.ts).
// Training is idempotent per message: training the same message again with the same label does
// nothing, and with the other label first takes the earlier step back (as sa-learn does).
import { createHash } from 'node:crypto';
import type { Store } from '../store/store.ts';
import { extractFeatures } from './features.ts';
import { LinearModel, vectorize, HASH_BITS } from './model.ts';
import { FEATURE_VERSION, ModelStore, type Label, type ModelMeta } from './model-store.ts';
import { scoreMessage, type ClassifierInput, type ClassifierResult, type ScoringModel, type ScoringOptions } from './score.ts';
import { readStarterModel } from './starter-model.ts';

export type { ClassHint, ClassifierInput, ClassifierResult, Reason, ScoringModel } from './score.ts';

export interface ClassifierOptions {
  /** Score (%) from which a message is Spam. */
  spamThreshold?: number;
  /** Score (%) from which a message is Unsure. */
  unsureThreshold?: number;
  /** Reasons returned per message. */
  maxReasons?: number;
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
  /** Training steps run one after another: each reads the weights the previous one wrote. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(store: Store, options: ClassifierOptions) {
    this.persist = new ModelStore(store);
    this.options = {
      spamThreshold: options.spamThreshold ?? DEFAULT_SPAM_THRESHOLD,
      unsureThreshold: options.unsureThreshold ?? DEFAULT_UNSURE_THRESHOLD,
      maxReasons: options.maxReasons ?? 10,
    };
  }

  /** Opens the model in the store (an empty model if there is none yet). */
  static async open(store: Store, options: ClassifierOptions = {}): Promise<Classifier> {
    const c = new Classifier(store, options);
    c.meta = await c.persist.meta();
    if (c.meta) await c.persist.loadWeights(c.model.weights);
    return c;
  }

  /** Messages trained: in this store, and in the starter model if one was installed. */
  get counts(): { spam: number; ham: number; starter?: { spam: number; ham: number; source: string } } {
    return { spam: this.meta?.spam ?? 0, ham: this.meta?.ham ?? 0, starter: this.meta?.starter };
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
    return { weights: this.model.weights, trained: Boolean(this.meta) };
  }

  /** Learns a message as spam or ham. Returns false if it was already learned with that label. */
  train(raw: Buffer, label: Label): Promise<boolean> {
    return this.enqueue(() => this.doTrain(raw, label));
  }

  /** Takes back an earlier training of the message with this label. False if there was none. */
  untrain(raw: Buffer, label: Label): Promise<boolean> {
    return this.enqueue(() => this.doUntrain(raw, label));
  }

  /** Installs the shipped starter model unless a model exists. False if one existed. */
  installStarterModel(): Promise<boolean> {
    return this.enqueue(async () => {
      if (this.meta) return false;
      const starter = await readStarterModel();
      if (starter.hashBits !== HASH_BITS) throw new Error(`the starter model file uses ${starter.hashBits}-bit hashing, this version ${HASH_BITS}; rebuild it (npm run model:starter)`);
      for (let i = 0; i < starter.ids.length; i++) this.model.weights[starter.ids[i]] = starter.weights[i];
      const meta: ModelMeta = { format: 1, hashBits: HASH_BITS, featureVersion: FEATURE_VERSION, spam: 0, ham: 0, starter: { spam: starter.spam, ham: starter.ham, source: starter.source } };
      await this.persist.writeAll(this.model.weights, meta);
      this.meta = meta;
      return true;
    });
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(job);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private emptyMeta(): ModelMeta {
    return { format: 1, hashBits: HASH_BITS, featureVersion: FEATURE_VERSION, spam: 0, ham: 0 };
  }

  private async doTrain(raw: Buffer, label: Label): Promise<boolean> {
    const f = extractFeatures(raw);
    if (!f.isMail) throw new NotMailError();
    const hash = messageHash(raw);
    const earlier = await this.persist.record(hash);
    if (earlier?.label === label) return false;
    const v = vectorize(f.tokens);
    const meta = { ...(this.meta ?? this.emptyMeta()) };
    if (earlier) {
      this.model.apply(v, -earlier.step);
      meta[earlier.label] = Math.max(0, meta[earlier.label] - 1);
    }
    const step = this.model.stepFor(v, label === 'spam');
    this.model.apply(v, step);
    meta[label]++;
    await this.persist.commit(this.model.weights, v.ids, meta, { hash, value: { label, step, featureVersion: FEATURE_VERSION } });
    this.meta = meta;
    return true;
  }

  private async doUntrain(raw: Buffer, label: Label): Promise<boolean> {
    const hash = messageHash(raw);
    const earlier = await this.persist.record(hash);
    if (!earlier || earlier.label !== label || !this.meta) return false;
    const v = vectorize(extractFeatures(raw).tokens);
    this.model.apply(v, -earlier.step);
    const meta = { ...this.meta, [label]: Math.max(0, this.meta[label] - 1) };
    await this.persist.commit(this.model.weights, v.ids, meta, { hash, value: null });
    this.meta = meta;
    return true;
  }
}

/** Identifies a message for its training record: the hash of its bytes. */
export function messageHash(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}
