// A stand-in for the rauc command, for the update API's tests (the real one needs the image's
// slots and RAUC's root service). It behaves as RAUC does where the daemon looks:
// - `rauc info --output-format=json FILE`: the manifest as JSON, or an error line and exit 1;
// - `rauc install FILE`: progress lines, its status file (<data>/rauc/central.raucs, slot B or `slot`), an
//   error line and exit 1 for a bundle it refuses.
// A "bundle" here is a text file: a line "unsigned" makes RAUC refuse it; "version=" and
// "description=" lines are its manifest's (defaults 0.1.1 and "Mailmoat 0.1.1").
// With `gate`, the install stops after its first progress lines until that file exists, so a test
// can look at an install under way and then let it finish.
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';

export function standInBundle(o: { version?: string; description?: string; unsigned?: boolean; size?: number } = {}): Buffer {
  const text = [o.unsigned ? 'unsigned' : 'signed', `version=${o.version ?? '0.1.1'}`, `description=${o.description ?? `Mailmoat ${o.version ?? '0.1.1'}`}`, ''].join('\n');
  return Buffer.concat([Buffer.from(text), Buffer.alloc(Math.max(0, (o.size ?? 0) - text.length), 0x0a)]);
}

export async function standInRauc(dir: string, dataDir: string, o: { gate?: string; slot?: 'A' | 'B' } = {}): Promise<string> {
  const index = o.slot === 'A' ? 0 : 1;
  const file = path.join(dir, 'stand-in-rauc');
  await writeFile(file, `#!/bin/sh
for a; do bundle=$a; done
field() { sed -n "s/^$1=//p" "$bundle" | head -n 1; }
version=$(field version); version=\${version:-0.1.1}
description=$(field description); description=\${description:-Mailmoat $version}
case "$1" in
info)
  if grep -q '^unsigned$' "$bundle"; then
    echo "rauc-Message: 10:00:00.000: Reading bundle: $bundle" >&2
    echo "Failed to verify bundle signature: signature verification failed: no certificate matches" >&2
    exit 1
  fi
  printf '{"compatible":"mailmoat-amd64","version":"%s","description":"%s","build":"20261130T140000Z","hooks":[],"images":[]}\\n' "$version" "$description"
  ;;
install)
  if grep -q '^unsigned$' "$bundle"; then echo "installing $bundle: LastError: signature verification failed: no certificate matches" >&2; exit 1; fi
  echo "  0% Installing"
  echo " 40% Copying image to rootfs.${index}"
  ${o.gate ? `while [ ! -e '${o.gate}' ]; do sleep 0.05; done` : ''}
  mkdir -p '${dataDir}/rauc'
  printf '[slot.rootfs.${index}]\\nbundle.version=%s\\ninstalled.timestamp=2026-11-30T14:10:00Z\\n' "$version" > '${dataDir}/rauc/central.raucs'
  echo "100% Installing done."
  ;;
*) exit 2 ;;
esac
`);
  await chmod(file, 0o755);
  return file;
}
