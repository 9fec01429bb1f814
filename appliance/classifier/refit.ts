// The refit (model.ts) and its calibration (calibration.ts) computed in a worker thread: with
// thousands of lessons they take about a second of CPU, mostly cache misses in the 32 MiB weight
// table, and the thread that runs the SMTP listeners must not stall for that. The worker writes
// the weights into a shared scratch table; the caller copies them into the weights scoring reads.
import { Worker } from 'node:worker_threads';
import { fitCalibration, MIN_CALIBRATION_LESSONS, type Calibration } from './calibration.ts';
import { fit, fitOrder, heldOutLogits, type Lesson, type PriorWeights } from './model.ts';
import { workerModule } from '../runtime/worker-module.ts';

export interface RefitJob {
  /** Float64Array over a SharedArrayBuffer: the weights are written here. */
  into: Float64Array;
  prior?: PriorWeights;
  lessons: Lesson[];
}

/**
 * Fits `into` from the prior and the lessons; returns the calibration fitted on held-back lessons,
 * or undefined when there are too few of either kind to judge a threshold by.
 */
export function refitInto({ into, prior, lessons }: RefitJob): Calibration | undefined {
  const ordered = fitOrder(lessons);
  const spam = ordered.filter((l) => l.spam).length;
  const enough = spam >= MIN_CALIBRATION_LESSONS.spam && ordered.length - spam >= MIN_CALIBRATION_LESSONS.ham;
  const calibration = enough ? fitCalibration(heldOutLogits(into, prior, ordered), 'store') : undefined;
  fit(into, prior, ordered);
  return calibration;
}

/** Runs refitInto in a worker thread. */
export function refitInWorker(job: RefitJob): Promise<Calibration | undefined> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerModule(import.meta.url, 'refit-worker'), { workerData: job });
    let answered = false;
    worker.once('message', (calibration: Calibration | null) => { answered = true; resolve(calibration ?? undefined); });
    worker.once('error', reject);
    worker.once('exit', (code) => { if (!answered) reject(new Error(`the classifier's refit thread stopped (exit code ${code}) before answering`)); });
  });
}
