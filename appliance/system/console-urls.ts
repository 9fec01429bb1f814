// The web console's address as a person should type it. A console bound to every address (0.0.0.0
// or ::, the image's default) is reached through the box's own addresses, so those are named, not
// the wildcard; port 443 is left out of the URL.
import os from 'node:os';

type Interfaces = ReturnType<typeof os.networkInterfaces>;

export function consoleUrls(bindHost: string, port: number, interfaces: Interfaces = os.networkInterfaces()): string[] {
  const url = (host: string) => `https://${host.includes(':') ? `[${host}]` : host}${port === 443 ? '' : `:${port}`}/`;
  if (bindHost !== '0.0.0.0' && bindHost !== '::' && bindHost !== '') return [url(bindHost)];
  const external = Object.values(interfaces).flatMap((list) => list ?? [])
    .filter((a) => !a.internal && (a.family === 'IPv4' || (bindHost === '::' && !a.address.startsWith('fe80'))))
    .map((a) => a.address);
  return external.length ? external.map(url) : [url('127.0.0.1')];
}
