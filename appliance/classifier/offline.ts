// The classifier of a stopped appliance, for the command-line tools (`mailmoat train`, `classify`):
// the data directory's store is opened only to reach the model, through Classifier and its model
// store (the `bayes` sublevel's owner), and closed again by `close`. While the daemon runs it holds
// the store and opening throws StoreInUseError.
import { openStore } from '../store/store.ts';
import { Classifier, type ClassifierOptions } from './classifier.ts';

export interface OfflineClassifier {
  classifier: Classifier;
  close(): Promise<void>;
}

export async function openOffline(dataDir: string, options?: ClassifierOptions): Promise<OfflineClassifier> {
  const store = await openStore(dataDir);
  try {
    return { classifier: await Classifier.open(store, options), close: () => store.close() };
  } catch (err) {
    await store.close();
    throw err;
  }
}
