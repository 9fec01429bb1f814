// Patterns of the configuration schema that have their own problem text: kept free of Node modules,
// so the schema (server) and the problem texts (server and web UI, problems.ts) share them.

/** The appliance's fully qualified host name: letters, digits and hyphens in two or more
 * dot-separated labels, the last alphabetic (the shortest is "a.bc"). */
export const HOST_NAME = '^(?=.{4,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\\.)+[a-zA-Z]{2,63}$';

/** A name made a valid HOST_NAME: kept when it already is one, else its first label cleaned to
 * letters, digits and hyphens under .localdomain (a name no one else resolves) until the admin
 * names the box. Used for a fresh box's default and for single labels stored by older versions. */
export function qualifiedHostname(name: string): string {
  if (new RegExp(HOST_NAME).test(name)) return name;
  const label = name.toLowerCase().split('.')[0].replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return `${label || 'mailmoat'}.localdomain`;
}

/** A server named by host name (one label or more, as a resolver looks it up) or by an IPv4 or IPv6
 * address; the shape only (validate.ts checks that an IPv6 address parses). */
export const HOST_OR_ADDRESS = '^((?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\\.?|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*)$';
