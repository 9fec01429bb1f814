// Scoring one message against a weight table. Pure and synchronous, so it runs wherever the
// weights can be seen: in the classifier's own thread, or in the pipeline's analysis threads,
// which read the same weights through shared memory (the model allocates them in a
// SharedArrayBuffer) while training goes on in the main thread.
import { extractFeatures } from './features.ts';
import type { MimeMessage } from './mime.ts';
import { calibratedLogit, type Calibration } from './calibration.ts';
import { BIAS_TOKEN, sigmoid, vectorize } from './model.ts';
import { evaluateRules, type AuthFindings } from './rules.ts';
import { ruleHit } from './phishing.ts';
import type { Reason } from '../message/message.ts';

export type ClassHint = 'Spam' | 'Phish' | 'Unsure' | 'Not Spam';

export interface ClassifierInput {
  /** The message bytes. */
  raw: Buffer;
  /** Their parse (mime.ts), when the caller has parsed them already: they are not walked again. */
  parsed?: MimeMessage;
  /** Authentication findings of the pipeline, when it has them. */
  auth?: AuthFindings;
}

/** A reason is a token ("subject:free", "url:dom:example.com") or a rule name ("PHISH_CREDENTIAL_FORM")
 * with the logit units it adds (positive: towards spam): the mail path's one Reason type. */
export type { Reason };

export interface ClassifierResult {
  score: number;
  classHint: ClassHint;
  reasons: Reason[];
}

export interface ScoringOptions {
  /** Score (%) from which a message is Spam. */
  spamThreshold: number;
  /** Score (%) from which a message is Unsure. */
  unsureThreshold: number;
  /** Reasons returned per message. */
  maxReasons: number;
}

/** What scoring reads of a model: its weights, whether anything was ever learned, its calibration. */
export interface ScoringModel {
  weights: Float64Array;
  trained: boolean;
  calibration: Pick<Calibration, 'slope' | 't90'>;
}
/** Phishing rules must add at least this much (logit units) for the class Phish. */
const PHISH_MIN = 3;
/**
 * Phishing rules this strong (a credential form, a login page carried in the mail, or two
 * independent signs) hold the message whatever the statistics say: phishing is short, well
 * written and new — what token statistics miss — so the score is raised to the spam threshold.
 */
export const PHISH_CONVICTS = 4;

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function scoreMessage(model: ScoringModel, o: ScoringOptions, input: ClassifierInput): ClassifierResult {
  const f = extractFeatures(input.raw, input.parsed);
  const v = vectorize(f.tokens);
  const rules = evaluateRules(f, input.auth);
  const top = new TopReasons(Math.max(0, o.maxReasons - rules.hits.length));
  // Token contributions are shown in calibrated logit units, like the rules beside them.
  const slope = model.trained ? model.calibration.slope : 1;
  let raw = 0;
  for (let i = 0; i < v.ids.length; i++) {
    const c = model.weights[v.ids[i]] * v.value;
    raw += c;
    if (c !== 0) top.offer(i, c * slope);
  }
  let logit = model.trained ? calibratedLogit(model.calibration, raw) : raw;
  for (const h of rules.hits) logit += h.contribution;
  let score = 100 * sigmoid(logit);
  if (rules.phish >= PHISH_CONVICTS) score = Math.max(score, o.spamThreshold);
  const classHint: ClassHint = rules.phish >= PHISH_MIN && score >= o.unsureThreshold ? 'Phish'
    : score >= o.spamThreshold ? 'Spam' : score >= o.unsureThreshold ? 'Unsure' : 'Not Spam';
  const tokenReasons = top.take().map(([i, c]) => ({ name: v.names[i] === BIAS_TOKEN ? 'MODEL_PRIOR' : v.names[i], contribution: c }));
  const reasons: Reason[] = [...rules.hits, ...tokenReasons].map((r) => ({ ...r, contribution: round(r.contribution) }));
  if (!model.trained) reasons.push(ruleHit('MODEL_EMPTY', 0));
  return { score, classHint, reasons };
}

/**
 * The k contributions of largest magnitude, kept sorted while the features stream by: a message
 * has hundreds of features but only a handful of reasons are shown, so sorting them all per
 * message would be wasted work on the hot path.
 */
class TopReasons {
  readonly #k: number;
  readonly #items: [index: number, contribution: number][] = [];
  constructor(k: number) { this.#k = k; }

  offer(index: number, c: number): void {
    const items = this.#items;
    const mag = Math.abs(c);
    if (items.length === this.#k && (this.#k === 0 || mag <= Math.abs(items[items.length - 1][1]))) return;
    let at = items.length;
    while (at > 0 && Math.abs(items[at - 1][1]) < mag) at--;
    items.splice(at, 0, [index, c]);
    if (items.length > this.#k) items.pop();
  }

  take(): [number, number][] { return this.#items; }
}
