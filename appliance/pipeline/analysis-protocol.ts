// The messages between the pipeline's analysis pool (main thread) and its analysis threads.
import type { ScoringModel } from '../classifier/index.ts';
import type { Analysis, AnalysisJob } from './analysis.ts';

export interface WorkerSetup {
  /** The classifier's weights (shared memory), when the pipeline has a classifier. */
  weights?: Float64Array;
}

/** How a job is scored: absent when the pipeline has no scorer. */
export interface JobScoring {
  trained: boolean;
  calibration: ScoringModel['calibration'];
  spamThreshold: number;
  unsureThreshold: number;
}

export type ToWorker =
  | { type: 'job'; id: number; job: AnalysisJob; scoring?: JobScoring; dnsCacheMaxSeconds: number }
  /** The upstream resolver's answer, with its TTL when it told one. */
  | { type: 'dns'; id: number; answer?: { records: unknown; ttl?: number }; error?: { code?: string; message: string } };

export type FromWorker =
  /** Sent once the thread has loaded its modules and listens: job deadlines start from here. */
  | { type: 'ready' }
  | { type: 'done'; id: number; result: Analysis }
  | { type: 'failed'; id: number; message: string }
  | { type: 'dns'; id: number; name: string; rrtype: string };
