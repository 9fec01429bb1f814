// Training from uploaded files: an Outlook .msg (recognised by its OLE signature) is converted to
// MIME first; anything else is taken as an RFC 5322 message (.eml). The classifier learns it as
// spam or not spam; the answer says, per file, what happened in words the admin can act on — as
// a text key and parameters (appliance/i18n/server-messages.ts), rendered in the caller's language by the route.
import { NotMailError, type Classifier } from '../../classifier/index.ts';
import { msgToMime } from '../../classifier/sources.ts';
import type { LocalText } from '../../i18n/server-messages.ts';
import type { TrainingProvider } from './interfaces.ts';

const OLE_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

export function trainingProvider(classifier: Classifier): TrainingProvider {
  return {
    status() {
      return { spam: classifier.counts.spam, ham: classifier.counts.ham, calibration: classifier.calibration };
    },
    async train(file, as): Promise<{ ok: boolean; text: LocalText }> {
      let raw: Buffer;
      try {
        raw = file.data.subarray(0, 8).equals(OLE_MAGIC) ? msgToMime(file.data) : file.data;
      } catch (err) {
        return { ok: false, text: { key: 'training-result.unreadable-msg', params: { file: file.filename, detail: (err as Error).message } } };
      }
      try {
        const learnt = await classifier.train(raw, as);
        const key = as === 'spam' ? (learnt ? 'training-result.learnt-spam' : 'training-result.already-spam')
          : learnt ? 'training-result.learnt-ham' : 'training-result.already-ham';
        return { ok: true, text: { key, params: { file: file.filename } } };
      } catch (err) {
        if (err instanceof NotMailError) return { ok: false, text: { key: 'training-result.not-mail', params: { file: file.filename } } };
        throw err;
      }
    },
  };
}
