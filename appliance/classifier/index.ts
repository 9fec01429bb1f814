// The classifier's public face: what the pipeline, the quarantine and the CLI use. Everything
// else in this folder is internal to it.
export { Classifier, NotMailError, messageHash, DEFAULT_SPAM_THRESHOLD, DEFAULT_UNSURE_THRESHOLD } from './classifier.ts';
export type { ClassifierInput, ClassifierResult, ClassifierOptions, ClassHint, Reason, ScoringModel, Calibration } from './classifier.ts';
export { describeCalibration } from './calibration.ts';
export { parseMime, parseContentType, type MimeMessage as ParsedMessage } from './mime.ts';
export { decodeHeader } from './charset.ts';
export { parseAddress } from './features.ts';
export { scoreMessage, type ScoringOptions } from './score.ts';
export type { AuthFindings } from './rules.ts';
export type { Label } from './model-store.ts';
export { openOffline, type OfflineClassifier } from './offline.ts';
