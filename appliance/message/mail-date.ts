// The Date header's form (RFC 5322 §3.3) for every message the appliance writes itself — bounces,
// notices, reports, the Received line — always in UTC with a numeric zone, as MTAs expect.
export function mailDate(at: number | Date = Date.now()): string {
  return new Date(at).toUTCString().replace('GMT', '+0000');
}
