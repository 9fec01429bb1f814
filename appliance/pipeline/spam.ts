// Stage 5, spam score: asks the classifier through the narrow Scorer interface below, so the
// pipeline depends on no classifier internals (the classifier's `Classifier` fits it as it is).
// Without a scorer, or when scoring fails, the class hint is "Unknown" and the verdict does not
// pretend the message is clean.
import type { ParsedMessage, ScoringModel } from '../classifier/index.ts';
import type { Reason } from '../message/message.ts';
import type { SpamFindings, StageContext } from './message-context.ts';

export interface ScoreInput {
  raw: Buffer;
  /** The parse stage's parse of `raw`: the scorer reads it instead of parsing again. */
  parsed?: ParsedMessage;
  auth?: { spf?: string; dkim?: string; dmarc?: string; fromDomain?: string };
}

export interface ScoreResult {
  /** 0–100 (%). */
  score: number;
  classHint: 'Spam' | 'Phish' | 'Unsure' | 'Not Spam';
  reasons: Reason[];
}

export type TrainLabel = 'spam' | 'ham';

export interface Scorer {
  score(input: ScoreInput): Promise<ScoreResult>;
  /** Learning from the admin's feedback (quarantine "release and train"); optional. */
  train?(raw: Buffer, label: TrainLabel): Promise<unknown>;
  untrain?(raw: Buffer, label: TrainLabel): Promise<unknown>;
  /**
   * The model in shared memory (the classifier has one): analysis threads then score with it
   * themselves. A scorer without it is only called on the pipeline's own thread.
   */
  shared?(): ScoringModel;
}

export async function spamStage(sc: StageContext, scorer: Scorer | undefined): Promise<void> {
  if (!scorer) {
    sc.findings.spam = { score: 0, classHint: 'Unknown', reasons: [] };
    return;
  }
  const auth = sc.findings.auth;
  try {
    const r = await scorer.score({
      raw: sc.raw,
      parsed: sc.mime,
      auth: auth ? {
        spf: auth.spf.result,
        dkim: auth.dkim.some((d) => d.result === 'pass') ? 'pass' : auth.dkim[0]?.result ?? 'none',
        dmarc: auth.dmarc?.result ?? 'none',
        fromDomain: auth.fromDomain,
      } : undefined,
    });
    const score = Number.isFinite(r.score) ? Math.min(100, Math.max(0, r.score)) : 0;
    sc.findings.spam = { score, classHint: r.classHint, reasons: r.reasons } satisfies SpamFindings;
  } catch (err) {
    sc.findings.spam = { score: 0, classHint: 'Unknown', reasons: [], error: `scoring failed: ${(err as Error).message}` };
  }
}
