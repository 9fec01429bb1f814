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
export const DEFAULT_PARAMS: ModelParams = { rate: 8, margin: 6 };

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

/** Turns tokens into a feature vector: unique hashes plus the bias. */
export function vectorize(tokens: string[]): FeatureVector {
  const seen = new Set<number>();
  const ids: number[] = [];
  const names: string[] = [];
  for (const t of [BIAS_TOKEN, ...tokens]) {
    const id = hashToken(t);
    if (seen.has(id)) continue;
    seen.add(id);
    ids.push(id);
    names.push(t);
  }
  return { ids: Uint32Array.from(ids), names, value: 1 / Math.sqrt(ids.length) };
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export class LinearModel {
  readonly weights = new Float64Array(1 << HASH_BITS);
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
