// Training from uploaded files: an Outlook .msg (recognised by its OLE signature) is converted to
// MIME first; anything else is taken as an RFC 5322 message (.eml). The classifier learns it as
// spam or not spam; the answer says, per file, what happened in words the admin can act on.
import { NotMailError, type Classifier } from '../../classifier/index.ts';
import { msgToMime } from '../../classifier/sources.ts';
import type { TrainingProvider } from '../providers.ts';

const OLE_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

export function trainingProvider(classifier: Classifier): TrainingProvider {
  return {
    async train(file, as) {
      const label = as === 'spam' ? 'spam' : 'not spam';
      let raw: Buffer;
      try {
        raw = file.data.subarray(0, 8).equals(OLE_MAGIC) ? msgToMime(file.data) : file.data;
      } catch (err) {
        return { ok: false, message: `${file.filename}: cannot read this Outlook .msg file (${(err as Error).message})` };
      }
      try {
        const learnt = await classifier.train(raw, as);
        return learnt
          ? { ok: true, message: `${file.filename}: learnt as ${label}` }
          : { ok: true, message: `${file.filename}: already learnt as ${label}; nothing changed` };
      } catch (err) {
        if (err instanceof NotMailError) return { ok: false, message: `${file.filename}: ${err.message}` };
        throw err;
      }
    },
  };
}
