// The statistical model: logistic regression over hashed binary features, trained online.
// Each token is hashed into one of 2^22 weights (collisions are rare and harmless for a linear
// model); a message's features are unique token hashes, each with value 1/√n so long and short
// messages weigh the same. Score = σ(bias + Σ w·x). Training takes one gradient step per message,
// and only while the message is not already classified with margin (train-on-or-near-error):
// this keeps the model stable when feedback arrives in one-sided bursts. The step a message
// received is returned, so untraining can subtract exactly that step again.
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

/** Chosen by 5-fold cross-validation inside the benchmark's train split (see README). */
export const DEFAULT_PARAMS: ModelParams = { rate: 16, margin: 2 };

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

  /** Adds step·x to the weights of the vector's features; returns the ids touched. */
  apply(v: FeatureVector, step: number): void {
    if (step === 0) return;
    const d = step * v.value;
    for (let i = 0; i < v.ids.length; i++) this.weights[v.ids[i]] += d;
  }
}
