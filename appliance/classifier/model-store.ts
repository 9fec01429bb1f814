// Persistence of the classifier in the store's 'bayes' sublevel. What is kept is the lessons, not
// weights: the weights are a refit from the starter model and the lessons (model.ts), so they are
// rebuilt when the store is opened and never depend on the order lessons came in. Each lesson is
// written in one batch with the meta that counts it, so a crash never leaves a count without its
// lesson.
//   meta           → ModelMeta (absent: no model yet — the starter model may be installed)
//   m!<sha256>     → LessonRecord: the label and the feature ids of the message
// Stores of format 1 kept online weights and steps instead of lessons; they cannot be refitted
// and are cleared when opened (the starter model is then installed again, as on a fresh box).
import type { Store, Sublevel } from '../store/store.ts';
import { HASH_BITS, type Lesson } from './model.ts';

/** Bumped when the features change meaning: lessons of older versions are refitted as they are. */
export const FEATURE_VERSION = 2;

export type Label = 'spam' | 'ham';

export interface ModelMeta {
  format: 2;
  hashBits: number;
  featureVersion: number;
  /** Lessons in this store (the starter model's corpus is counted under `starter`). */
  spam: number;
  ham: number;
  starter?: { spam: number; ham: number; source: string };
}

export interface LessonRecord {
  label: Label;
  /** Feature ids as little-endian uint32, base64. */
  ids: string;
  featureVersion: number;
}

type Value = ModelMeta | LessonRecord | { format: 1 };

export function encodeIds(ids: Uint32Array): string {
  const b = Buffer.alloc(ids.length * 4);
  for (let i = 0; i < ids.length; i++) b.writeUInt32LE(ids[i], i * 4);
  return b.toString('base64');
}

export function decodeIds(s: string): Uint32Array {
  const b = Buffer.from(s, 'base64');
  const ids = new Uint32Array(b.length >>> 2);
  for (let i = 0; i < ids.length; i++) ids[i] = b.readUInt32LE(i * 4);
  return ids;
}

export class ModelStore {
  private readonly db: Sublevel<Value>;

  constructor(store: Store) {
    this.db = store.sublevel<Value>('bayes');
  }

  /** The meta, or undefined for no model; a format-1 model is cleared first (see above). */
  async meta(): Promise<ModelMeta | undefined> {
    const m = (await this.db.get('meta')) as ModelMeta | { format: 1 } | undefined;
    if (m?.format === 1) {
      await this.db.clear();
      return undefined;
    }
    if (m && m.hashBits !== HASH_BITS) {
      throw new Error(`the classifier model in the store uses ${m.hashBits}-bit feature hashing but this version uses ${HASH_BITS}; ` +
        'retrain it (delete the model with the console\'s "reset classifier" or train from your corpus again)');
    }
    return m;
  }

  async *lessons(): AsyncGenerator<Lesson> {
    for await (const [key, value] of this.db.iterator({ gt: 'm!', lt: 'm"' })) {
      const r = value as LessonRecord;
      yield { hash: key.slice(2), spam: r.label === 'spam', ids: decodeIds(r.ids) };
    }
  }

  /** Writes (or, with null, removes) one lesson together with the meta that counts it. */
  async commit(meta: ModelMeta, hash: string, record: LessonRecord | null): Promise<void> {
    const batch = this.db.batch();
    if (record) batch.put('m!' + hash, record);
    else batch.del('m!' + hash);
    batch.put('meta', meta);
    await batch.write();
  }

  async writeMeta(meta: ModelMeta): Promise<void> {
    await this.db.put('meta', meta);
  }
}
