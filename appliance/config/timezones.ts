// The time zone names a configuration may hold: the IANA zones this Node.js knows
// (Intl.supportedValuesOf) plus 'UTC', which that list leaves out. Offered to the console as the
// choices of its zone fields, so that what the console offers is exactly what validation takes.
let zones: { list: string[]; set: Set<string> } | undefined;

function known(): { list: string[]; set: Set<string> } {
  if (!zones) {
    const list = [...new Set([...Intl.supportedValuesOf('timeZone'), 'UTC'])].sort();
    zones = { list, set: new Set(list) };
  }
  return zones;
}

export function knownTimeZones(): string[] {
  return known().list;
}

/**
 * A listed zone, or another name the time zone database takes: Node's list gives one name per
 * zone, so current aliases (Asia/Kolkata for Asia/Calcutta, Etc/UTC, GMT) are missing from it. A
 * listed name in the wrong case is refused: the system's zone files are case-sensitive.
 */
export function isKnownTimeZone(name: string): boolean {
  const { set, list } = known();
  if (set.has(name)) return true;
  if (list.some((z) => z.toLowerCase() === name.toLowerCase())) return false;
  // Only Area/Location names (and GMT): Intl also takes abbreviations and offsets ("JST", "+09:00")
  // that are not zone files the system could be set to.
  if (name !== 'GMT' && !/^[A-Za-z]+(\/[A-Za-z0-9_+-]+)+$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
