// One page of a cursor-paged search (quarantine, message log, audit log): the page's filters, with
// its day fields turned into the API's instants (whole days in the caller's zone), the page size,
// and the cursor to resume from when more is asked for.
import { api } from './api.ts';
import { dayEnd, dayStart, query } from './dates.ts';

export const PAGE = 50;

export interface Page<T> { items: T[]; next?: string }

export function fetchPage<T>(path: string, filters: Record<string, string> & { from: string; to: string }, cursor?: string): Promise<Page<T>> {
  return api<Page<T>>('GET', `${path}${query({ ...filters, from: dayStart(filters.from), to: dayEnd(filters.to), limit: PAGE, cursor })}`);
}
