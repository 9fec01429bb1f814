// What a failed request shows: the server's problems by field (JSON pointer → message, for the
// form's fields) and one sentence for the banner. Network and other errors get the sentence too,
// so no failure passes without a word to the user.
import { ApiFailure, problemMap } from './api.ts';
import { errorText } from './i18n.ts';

export function describeFailure(err: unknown): { errors: Record<string, string>; text: string } {
  if (err instanceof ApiFailure) return { errors: problemMap(err.problems), text: errorText(err.code, err.message) };
  return { errors: {}, text: err instanceof Error ? err.message : String(err) };
}
