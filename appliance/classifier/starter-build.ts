// Building a starter model from a labelled corpus: the same refit the store makes (model.ts) on
// an empty prior, the weights largest in magnitude kept and quantized as the file keeps them, and
// the day-one calibration fitted by 5-fold cross-validation inside the corpus with each fold's
// model pruned and quantized the same way, so the calibration describes the weights that ship.
// Used by scripts/build-starter-model.ts (the shipped file) and by the accuracy benchmark (a
// starter built from the train split only, for day-one figures); never by the daemon.
import { fitCalibration } from './calibration.ts';
import { messageHash } from './classifier.ts';
import { extractFeatures } from './features.ts';
import { fit, fitOrder, HASH_BITS, marginOf, vectorize, type Lesson } from './model.ts';
import { FEATURE_VERSION } from './model-store.ts';
import { decodeStarterModel, encodeStarterModel, type StarterModel } from './starter-model.ts';

/** At most this many weights are kept (the largest in magnitude): about 600 KiB on disk. */
export const MAX_STARTER_WEIGHTS = 250_000;
const FOLDS = 5;

/**
 * Tokens the starter model does not learn: HTML markup and structure, and the MIME fields. Its
 * corpus is of 2002, when much ham was plain text without MIME headers and HTML meant spam; nearly
 * all ordinary mail is MIME and HTML now, so those weights would hold a new box's notifications
 * and newsletters. The customer's own lessons learn them.
 */
const NOT_IN_STARTER = /^(?:tag:|attr:|fact:html-only$|ct:text\/html$|ct:multipart\/(?:alternative|related)$|H:(?:content-type|mime-version|content-transfer-encoding)$|mime-version:)/;

export function lessonOf(raw: Buffer, spam: boolean): Lesson {
  const tokens = extractFeatures(raw).tokens.filter((t) => !NOT_IN_STARTER.test(t));
  return { hash: messageHash(raw), spam, ids: Uint32Array.from(vectorize(tokens).ids) };
}

/** The kept weights of a fit, quantized exactly as the file stores them. */
function pruned(weights: Float64Array): { ids: Uint32Array; weights: Float64Array } {
  const nonzero: number[] = [];
  for (let id = 0; id < weights.length; id++) if (weights[id] !== 0) nonzero.push(id);
  // Largest magnitudes first; ties broken by id so the cut is deterministic.
  nonzero.sort((a, b) => Math.abs(weights[b]) - Math.abs(weights[a]) || a - b);
  const kept = nonzero.slice(0, MAX_STARTER_WEIGHTS).sort((a, b) => a - b);
  const m = decodeStarterModel(encodeStarterModel({
    hashBits: HASH_BITS, featureVersion: FEATURE_VERSION, source: '', spam: 0, ham: 0,
    ids: Uint32Array.from(kept), weights: Float64Array.from(kept, (id) => weights[id]), calibration: { slope: 1, t90: 0, basis: 'starter' },
  }));
  return { ids: m.ids, weights: m.weights };
}

export function buildStarterModel(lessons: Iterable<Lesson>, source: string): StarterModel {
  const ordered = fitOrder(lessons);
  const scratch = new Float64Array(1 << HASH_BITS);
  const heldOut: { logit: number; spam: boolean }[] = [];
  const foldWeights = new Float64Array(1 << HASH_BITS);
  for (let fold = 0; fold < FOLDS; fold++) {
    fit(scratch, undefined, ordered, undefined, (i) => i % FOLDS === fold);
    const p = pruned(scratch);
    foldWeights.fill(0);
    for (let i = 0; i < p.ids.length; i++) foldWeights[p.ids[i]] = p.weights[i];
    for (let i = fold; i < ordered.length; i += FOLDS) heldOut.push({ logit: marginOf(foldWeights, ordered[i].ids), spam: ordered[i].spam });
  }
  const calibration = fitCalibration(heldOut, 'starter');
  if (!calibration) throw new Error('the starter corpus is too small to calibrate (it needs at least 50 ham and 20 spam)');
  fit(scratch, undefined, ordered);
  const spam = ordered.filter((l) => l.spam).length;
  return { hashBits: HASH_BITS, featureVersion: FEATURE_VERSION, source, spam, ham: ordered.length - spam, ...pruned(scratch), calibration };
}
