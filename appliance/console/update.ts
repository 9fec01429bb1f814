// Menu item 12, system update: shows which system slot runs (and a fallback, with its reason),
// then installs a signed RAUC bundle given as a file path (a USB stick the admin mounted, a file
// copied over SSH) or an http(s) URL on the local network, downloaded to the data partition first.
// The menu's user is in the daemon's group, which RAUC's D-Bus policy on the image lets install
// (image/overlay/etc/dbus-1/system.d/mailmoat-rauc.conf); RAUC checks the signature before writing.
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { raucInstall, readUpdateStatus, updatesDir, type UpdateStatus } from '../system/updates.ts';

const DATA = '/var/lib/mailmoat';

export function formatSlots(s: UpdateStatus): string {
  const lines = s.slots.map((slot) => `  system ${slot.name}: ${slot.version ?? 'empty'}${slot.installedAt ? ` (installed ${slot.installedAt})` : ''}${slot.booted ? '  <- running' : ''}`);
  if (s.lastCheck) lines.push(`  last boot check: system ${s.lastCheck.slot} ${s.lastCheck.result}${s.lastCheck.reason ? `: ${s.lastCheck.reason}` : ''}`);
  if (s.fallback) lines.push(`  FELL BACK from system ${s.fallback.from} at ${s.fallback.at}: ${s.fallback.reason}`);
  return lines.join('\n');
}

/**
 * Installs a bundle from `source` (a path or an http(s) URL) into the other slot, writing progress
 * with `say`; resolves to true when installed.
 */
export async function installFromMenu(source: string, say: (line: string) => void, dataDir = DATA): Promise<boolean> {
  let file = source;
  const isUrl = /^https?:\/\//i.test(source);
  if (isUrl) {
    const dir = updatesDir(dataDir);
    await mkdir(dir, { recursive: true });
    file = path.join(dir, 'menu-download.raucb');
    say(`Downloading ${source} ...`);
    try {
      const res = await fetch(source);
      if (!res.ok || !res.body) { say(`The download failed: HTTP ${res.status}.`); return false; }
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(file, { mode: 0o640 }));
    } catch (err) {
      say(`The download failed: ${(err as Error).message}.`);
      await rm(file, { force: true });
      return false;
    }
  } else if (!path.isAbsolute(source)) {
    say('Give the full path of the bundle (it starts with /), or an http:// or https:// URL.');
    return false;
  }
  let last = -1;
  try {
    await raucInstall(file, (percent, message) => {
      if (percent !== last) { last = percent; say(`  ${String(percent).padStart(3)} % ${message}`); }
    });
    say('The update is installed into the other system slot.');
    return true;
  } catch (err) {
    say(`The update was not installed: ${(err as Error).message}`);
    return false;
  } finally {
    if (isUrl) await rm(file, { force: true });
  }
}

export async function slotStatus(dataDir = DATA): Promise<UpdateStatus> {
  const cmdline = await readFile('/proc/cmdline', 'utf8').catch(() => '');
  const version = (await readFile('/etc/mailmoat-version', 'utf8').catch(() => 'unknown')).trim();
  return readUpdateStatus(dataDir, cmdline, version, null);
}
