// Calibration: turning the model's logit into the score people see, so that "90 %" means the same
// low rate of good mail held whatever the amount and balance of training. It is fitted on
// held-back lessons (5-fold cross-validation inside the store's own lessons, never on mail the
// box is judged on): the threshold logit t90 is placed where at most 0.1 % of the held-back ham
// scored (with fewer than 1000 ham that is the highest ham), and the slope comes from a Platt fit
// with class-balanced weights, so the spread of scores does not lean with the balance of lessons.
// A store with too few lessons of either kind borrows the starter model's calibration (fitted the
// same way on its corpus when it was built), or the fixed default of an unfitted model. The
// starter's calibration has one more rule: a message with no evidence either way (logit 0) scores
// at most 20 %. Its corpus's ham is recognisable mailing-list traffic of 2002, so there, mail the
// model knows nothing about ranks with spam; on a new box most unknown mail is simply someone else's
// ordinary mail, and the absence of familiar ham words must not hold it.
//   score = σ(slope · (logit − t90) + ln 9)        (logit = t90 → exactly 90 %)
import { calibrationText } from '../i18n/reasons.ts';

const LN9 = Math.log(9);

/** Lessons needed of each kind before a store's own calibration replaces the borrowed one. */
export const MIN_CALIBRATION_LESSONS = { ham: 50, spam: 20 } as const;
/** The starter's highest score for a message without evidence (logit 0), in %. */
export const STARTER_NEUTRAL_MAX = 20;
/** Held-back ham allowed at or above 90 %, as a fraction. */
export const TARGET_FP = 0.001;
const SLOPE_RANGE = [0.25, 4] as const;

export interface HeldOutFigures {
  /** Held-back lessons scored. */
  ham: number;
  spam: number;
  /** Of those, how many would have scored at or above 90 % and 60 %. */
  hamAt90: number;
  spamAt90: number;
  hamAt60: number;
  spamAt60: number;
}

export interface Calibration {
  slope: number;
  t90: number;
  /** Where it comes from: this store's lessons, the starter model's corpus, or the fixed default. */
  basis: 'store' | 'starter' | 'default';
  heldOut?: HeldOutFigures;
}

/** An unfitted model: the offset chosen by cross-validation on the SpamAssassin split (README). */
export const DEFAULT_CALIBRATION: Calibration = { slope: 1, t90: LN9 - 1.05, basis: 'default' };

export function calibratedLogit(c: Pick<Calibration, 'slope' | 't90'>, logit: number): number {
  return c.slope * (logit - c.t90) + LN9;
}

export interface HeldOutLogit {
  logit: number;
  spam: boolean;
}

/** Fits a calibration on held-back logits; undefined when there are too few of either kind. */
export function fitCalibration(heldOut: readonly HeldOutLogit[], basis: 'store' | 'starter'): Calibration | undefined {
  const hams = heldOut.filter((x) => !x.spam).map((x) => x.logit).sort((a, b) => b - a);
  const spams = heldOut.filter((x) => x.spam).map((x) => x.logit);
  if (hams.length < MIN_CALIBRATION_LESSONS.ham || spams.length < MIN_CALIBRATION_LESSONS.spam) return undefined;
  const allowed = Math.floor(hams.length * TARGET_FP + 1e-9);
  // Just above the (allowed+1)-th highest ham: at most `allowed` held-back ham reach 90 %.
  const slope = Math.min(SLOPE_RANGE[1], Math.max(SLOPE_RANGE[0], plattSlope(heldOut, spams.length, hams.length)));
  let t90 = hams[allowed] + 1e-6;
  if (basis === 'starter') t90 = Math.max(t90, (LN9 - Math.log(STARTER_NEUTRAL_MAX / (100 - STARTER_NEUTRAL_MAX))) / slope);
  const c: Calibration = { slope, t90, basis };
  const at = (xs: number[], score: number) => xs.filter((x) => 100 / (1 + Math.exp(-calibratedLogit(c, x))) >= score).length;
  c.heldOut = {
    ham: hams.length, spam: spams.length,
    hamAt90: at(hams, 90), spamAt90: at(spams, 90), hamAt60: at(hams, 60), spamAt60: at(spams, 60),
  };
  return c;
}

/**
 * The slope a of σ(a·x + b) fitted by Newton's method on class-balanced log loss, with Platt's
 * smoothed targets (so perfectly separated lessons give a finite slope).
 */
function plattSlope(xs: readonly HeldOutLogit[], nSpam: number, nHam: number): number {
  const hi = (nSpam + 1) / (nSpam + 2);
  const lo = 1 / (nHam + 2);
  let a = 1;
  let b = 0;
  for (let iter = 0; iter < 50; iter++) {
    let gA = 0, gB = 0, hAA = 0, hAB = 0, hBB = 0;
    for (const { logit, spam } of xs) {
      const w = spam ? 1 / nSpam : 1 / nHam;
      const p = 1 / (1 + Math.exp(-(a * logit + b)));
      const d = w * (p - (spam ? hi : lo));
      const h = w * Math.max(p * (1 - p), 1e-12);
      gA += d * logit; gB += d;
      hAA += h * logit * logit; hAB += h * logit; hBB += h;
    }
    hAA += 1e-9; hBB += 1e-9;
    const det = hAA * hBB - hAB * hAB;
    if (!(det > 0)) break;
    const da = (hBB * gA - hAB * gB) / det;
    const db = (hAA * gB - hAB * gA) / det;
    a -= da; b -= db;
    if (Math.abs(da) < 1e-9 && Math.abs(db) < 1e-9) break;
  }
  return Number.isFinite(a) ? a : 1;
}

/** What the thresholds mean, in words an admin can weigh ("judged on your own training data"), in English. */
export function describeCalibration(c: Calibration): string {
  return calibrationText('en', c);
}
