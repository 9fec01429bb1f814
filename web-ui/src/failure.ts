// What a failed request shows: the server's problems by field (JSON pointer → message, for the
// form's fields) and one sentence for the banner, as the server wrote them in the user's language.
// Network and other errors get a sentence from the catalog, so no failure passes without a word.
// The one place that turns a failure into text.
import { ApiFailure, problemMap } from './api.ts';
import { errorText } from './i18n.ts';

export function describeFailure(err: unknown): { errors: Record<string, string>; text: string } {
  if (err instanceof ApiFailure) return { errors: problemMap(err.problems), text: err.fromServer ? err.message : errorText(err.code, err.message) };
  return { errors: {}, text: err instanceof Error ? err.message : String(err) };
}
