// Patterns of the configuration schema that have their own problem text: kept free of Node modules,
// so the schema (server) and the problem texts (server and web UI, problems.ts) share them.

/** The appliance's fully qualified host name: letters, digits and hyphens in two or more
 * dot-separated labels, the last alphabetic (the shortest is "a.bc"). */
export const HOST_NAME = '^(?=.{4,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\\.)+[a-zA-Z]{2,63}$';

/** A server named by host name (one label or more, as a resolver looks it up) or by an IPv4 or IPv6
 * address; the shape only (validate.ts checks that an IPv6 address parses). */
export const HOST_OR_ADDRESS = '^((?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\\.?|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*)$';
