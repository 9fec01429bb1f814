// The statistical model: logistic regression over hashed binary features. Each token is hashed
// into one of 2^22 weights (collisions are rare and harmless for a linear model); a message's
// features are unique token hashes, each with value 1/√n so long and short messages weigh the
// same. Logit = bias + Σ w·x. A lesson takes one gradient step, and only while the message is not
// already classified with margin (train-on-or-near-error). Online steps depend on the order of
// the lessons, so the model that counts is a refit (`fit`): the starter weights, then one pass
// over every stored lesson in the order of its message hash — a fixed function of the set of
// lessons, whatever order they came in. Online steps only bridge the time until the next refit.
export const HASH_BITS = 22;
const MASK = (1 << HASH_BITS) - 1;
/** Feature id of the bias term (a token no tokenizer emits). */
export const BIAS_TOKEN = '\u0000bias';

export interface ModelParams {
  /** Learning rate of a gradient step. */
  rate: number;
  /** No step when the message's margin, in the right direction, exceeds this (in logit units). */
  margin: number;
}

/**
 * Chosen by 5-fold cross-validation inside the benchmark's train split (see README), judged by the
 * worst of the trainings an admin gives: all lessons, few ham beside much spam, few spam beside
 * much ham. A wider margin keeps learning from messages already classified right but not by much:
 * with few lessons of a kind (a one-sided burst, a short history) those are most of what there is.
 */
export const DEFAULT_PARAMS: ModelParams = { rate: 16, margin: 3 };

/** FNV-1a over UTF-16 code units, folded to HASH_BITS. */
export function hashToken(token: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) {
    h ^= token.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return ((h >>> HASH_BITS) ^ h) & MASK;
}

export interface FeatureVector {
  /** Unique feature ids. */
  ids: Uint32Array;
  /** The token each id came from (for explanations). */
  names: string[];
  /** The value of every present feature (1/√n). */
  value: number;
}

/**
 * Open-addressing table for de-duplicating ids within one message, reused between calls: a
 * generation number marks the slots of the current message, so nothing is cleared per call.
 */
const SEEN_BITS = 14;
const seenIds = new Uint32Array(1 << SEEN_BITS);
const seenGen = new Uint32Array(1 << SEEN_BITS);
let generation = 0;

/** Turns tokens into a feature vector: unique hashes plus the bias. */
export function vectorize(tokens: string[]): FeatureVector {
  if (++generation === 0xffffffff) { seenGen.fill(0); generation = 1; }
  const mask = (1 << SEEN_BITS) - 1;
  const limit = mask >> 1; // keep the table at most half full
  const ids = new Uint32Array(Math.min(tokens.length + 1, limit));
  const names: string[] = [];
  let n = 0;
  for (let i = -1; i < tokens.length && n < limit; i++) {
    const t = i < 0 ? BIAS_TOKEN : tokens[i];
    const id = hashToken(t);
    let slot = id & mask;
    while (seenGen[slot] === generation && seenIds[slot] !== id) slot = (slot + 1) & mask;
    if (seenGen[slot] === generation) continue;
    seenGen[slot] = generation;
    seenIds[slot] = id;
    ids[n++] = id;
    names.push(t);
  }
  return { ids: ids.subarray(0, n), names, value: 1 / Math.sqrt(n) };
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export class LinearModel {
  /** In shared memory, so the pipeline's analysis threads score with the weights training updates. */
  readonly weights = new Float64Array(new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT << HASH_BITS));
  params: ModelParams;

  constructor(params: ModelParams = DEFAULT_PARAMS) {
    this.params = params;
  }

  /** The logit of a feature vector. */
  margin(v: FeatureVector): number {
    let sum = 0;
    for (let i = 0; i < v.ids.length; i++) sum += this.weights[v.ids[i]];
    return sum * v.value;
  }

  /** The step a message of this label should receive now (0 when already right with margin). */
  stepFor(v: FeatureVector, spam: boolean): number {
    const m = this.margin(v);
    const signed = spam ? m : -m;
    if (signed >= this.params.margin) return 0;
    const p = sigmoid(m);
    return this.params.rate * ((spam ? 1 : 0) - p);
  }

  /** Adds step·x to the weights of the vector's features. */
  apply(v: FeatureVector, step: number): void {
    if (step === 0) return;
    const d = step * v.value;
    for (let i = 0; i < v.ids.length; i++) this.weights[v.ids[i]] += d;
  }
}

/** One stored lesson: the message's hash, its label and its feature ids (bias included). */
export interface Lesson {
  hash: string;
  spam: boolean;
  ids: Uint32Array;
}

/** Weights a fit starts from (the starter model's). */
export interface PriorWeights {
  ids: Uint32Array;
  weights: Float64Array;
}

/** The logit of a lesson's features under `weights`. */
export function marginOf(weights: Float64Array, ids: Uint32Array): number {
  let sum = 0;
  for (let i = 0; i < ids.length; i++) sum += weights[ids[i]];
  return ids.length ? sum / Math.sqrt(ids.length) : 0;
}

/** Lessons in the order a fit visits them: by message hash. */
export function fitOrder(lessons: Iterable<Lesson>): Lesson[] {
  return [...lessons].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
}

/**
 * Fits weights into `into` (overwritten): the prior, then one train-on-or-near-error pass over
 * `ordered` (from fitOrder), skipping the lessons `skip` names (cross-validation folds).
 */
export function fit(into: Float64Array, prior: PriorWeights | undefined, ordered: readonly Lesson[], params: ModelParams = DEFAULT_PARAMS, skip?: (index: number) => boolean): void {
  into.fill(0);
  if (prior) for (let i = 0; i < prior.ids.length; i++) into[prior.ids[i]] = prior.weights[i];
  for (let i = 0; i < ordered.length; i++) {
    if (skip?.(i)) continue;
    const { ids, spam } = ordered[i];
    const m = marginOf(into, ids);
    if ((spam ? m : -m) >= params.margin) continue;
    const d = params.rate * ((spam ? 1 : 0) - sigmoid(m)) / Math.sqrt(ids.length);
    for (let k = 0; k < ids.length; k++) into[ids[k]] += d;
  }
}

/**
 * Logits of every lesson from a model fitted without it: k folds by position in `ordered`, each
 * scored by a fit (into `scratch`) on the other folds. What calibration is fitted on.
 */
export function heldOutLogits(scratch: Float64Array, prior: PriorWeights | undefined, ordered: readonly Lesson[], folds = 5): { logit: number; spam: boolean }[] {
  const out: { logit: number; spam: boolean }[] = [];
  for (let fold = 0; fold < folds; fold++) {
    fit(scratch, prior, ordered, DEFAULT_PARAMS, (i) => i % folds === fold);
    for (let i = fold; i < ordered.length; i += folds) out.push({ logit: marginOf(scratch, ordered[i].ids), spam: ordered[i].spam });
  }
  return out;
}
