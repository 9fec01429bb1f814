// Persistence of the model in the store's 'bayes' sublevel. The weights live in memory (scoring
// must not wait for disk) and every training step writes just the weights it changed, in one
// batch with the message's training record, so a crash never leaves half a step on disk.
//   meta           → ModelMeta (absent: no model yet — the starter model may be installed)
//   w!<id>         → weight (number), only non-zero weights
//   m!<sha256>     → TrainingRecord: the label and exact step a message was trained with
import type { Store, Sublevel } from '../store/store.ts';
import { HASH_BITS } from './model.ts';

/** Bumped when the features change meaning: records of older versions untrain approximately. */
export const FEATURE_VERSION = 1;

export type Label = 'spam' | 'ham';

export interface ModelMeta {
  format: 1;
  hashBits: number;
  featureVersion: number;
  /** Messages trained in this store (the starter model's are counted under `starter`). */
  spam: number;
  ham: number;
  starter?: { spam: number; ham: number; source: string };
}

export interface TrainingRecord {
  label: Label;
  step: number;
  featureVersion: number;
}

type Value = ModelMeta | TrainingRecord | number;

export class ModelStore {
  private readonly db: Sublevel<Value>;

  constructor(store: Store) {
    this.db = store.sublevel<Value>('bayes');
  }

  async meta(): Promise<ModelMeta | undefined> {
    const m = (await this.db.get('meta')) as ModelMeta | undefined;
    if (m && m.hashBits !== HASH_BITS) {
      throw new Error(`the classifier model in the store uses ${m.hashBits}-bit feature hashing but this version uses ${HASH_BITS}; ` +
        'retrain it (delete the model with the console\'s "reset classifier" or train from your corpus again)');
    }
    return m;
  }

  /** Loads every stored weight into `weights`. */
  async loadWeights(weights: Float64Array): Promise<number> {
    let n = 0;
    for await (const [key, value] of this.db.iterator({ gt: 'w!', lt: 'w"' })) {
      weights[Number(key.slice(2))] = value as number;
      n++;
    }
    return n;
  }

  async record(hash: string): Promise<TrainingRecord | undefined> {
    return (await this.db.get('m!' + hash)) as TrainingRecord | undefined;
  }

  /** Writes changed weights, the message's record (or its removal) and the meta, atomically. */
  async commit(weights: Float64Array, ids: Iterable<number>, meta: ModelMeta, record: { hash: string; value: TrainingRecord | null }): Promise<void> {
    const batch = this.db.batch();
    for (const id of ids) {
      const w = weights[id];
      if (w === 0) batch.del('w!' + id);
      else batch.put('w!' + id, w);
    }
    if (record.value) batch.put('m!' + record.hash, record.value);
    else batch.del('m!' + record.hash);
    batch.put('meta', meta);
    await batch.write();
  }

  /** Writes a whole model (the starter model) in chunks. */
  async writeAll(weights: Float64Array, meta: ModelMeta): Promise<void> {
    let batch = this.db.batch();
    let n = 0;
    for (let id = 0; id < weights.length; id++) {
      if (weights[id] === 0) continue;
      batch.put('w!' + id, weights[id]);
      if (++n % 10000 === 0) { await batch.write(); batch = this.db.batch(); }
    }
    batch.put('meta', meta);
    await batch.write();
  }
}
