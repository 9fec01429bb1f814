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

export function isKnownTimeZone(name: string): boolean {
  return known().set.has(name);
}
