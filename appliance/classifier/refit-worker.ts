// The refit thread (refit.ts): one refit, its calibration posted back, then it ends.
import { parentPort, workerData } from 'node:worker_threads';
import { refitInto, type RefitJob } from './refit.ts';

parentPort!.postMessage(refitInto(workerData as RefitJob) ?? null);
