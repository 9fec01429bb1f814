// Update bundles for the image test's update cycle, made from the build's own bundle (version N):
// RAUC extracts its system filesystem, debugfs edits it without mounting, and RAUC signs it again
// with the build's development key (build/keys, made by scripts/build-image.sh), so the image
// accepts it. `version` goes into the manifest and /etc/mailmoat-version; `breakDaemon` adds a
// systemd drop-in that makes the daemon exit at every start — the "N+2 that never gets healthy".
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface BundleKeys { cert: string; key: string }

export function developmentKeys(project: string): BundleKeys {
  return { cert: path.join(project, 'build/keys/development.cert.pem'), key: path.join(project, 'build/keys/development.key.pem') };
}

/** Extracts the bundle's contents (manifest and rootfs.ext4) into `dir`, checking its signature. */
export function extractBundle(bundle: string, keys: BundleKeys, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  execFileSync('rauc', ['extract', `--keyring=${keys.cert}`, bundle, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A new bundle from extracted contents: another version, optionally a daemon that cannot start. */
export function derivedBundle(extracted: string, keys: BundleKeys, work: string, out: string, o: { version: string; breakDaemon?: boolean }): void {
  const dir = path.join(work, `bundle-${o.version}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const manifest = readFileSync(path.join(extracted, 'manifest.raucm'), 'utf8')
    .replace(/^version=.*$/m, `version=${o.version}`)
    .replace(/^description=.*$/m, `description=Mailmoat ${o.version} (image test${o.breakDaemon ? ', daemon broken on purpose' : ''})`);
  // RAUC writes the manifest's hashes itself; only the [update], [bundle] and image lines are kept.
  writeFileSync(path.join(dir, 'manifest.raucm'), manifest.split('\n').filter((l) => !/^(sha256|size|verity-\w+)=/.test(l)).join('\n'));
  const rootfs = path.join(dir, 'rootfs.ext4');
  execFileSync('cp', ['--sparse=always', path.join(extracted, 'rootfs.ext4'), rootfs]);
  writeFileSync(path.join(work, 'version'), `${o.version}\n`);
  const commands = ['rm /etc/mailmoat-version', `write ${path.join(work, 'version')} /etc/mailmoat-version`];
  if (o.breakDaemon) {
    writeFileSync(path.join(work, 'broken.conf'), '[Service]\nExecStart=\nExecStart=/bin/false\n');
    commands.push('mkdir /etc/systemd/system/mailmoat.service.d', `write ${path.join(work, 'broken.conf')} /etc/systemd/system/mailmoat.service.d/broken.conf`);
  }
  writeFileSync(path.join(work, 'edit.debugfs'), commands.join('\n') + '\n');
  execFileSync('debugfs', ['-w', '-f', path.join(work, 'edit.debugfs'), rootfs], { stdio: 'ignore' });
  const check = execFileSync('debugfs', ['-R', 'cat /etc/mailmoat-version', rootfs], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  if (check.trim() !== o.version) throw new Error(`debugfs did not write the version into the bundle's filesystem (read "${check.trim()}")`);
  rmSync(out, { force: true });
  // A light compression: these bundles are made for one test run.
  execFileSync('rauc', ['bundle', `--cert=${keys.cert}`, `--key=${keys.key}`, '--mksquashfs-args=-comp zstd -Xcompression-level 3', dir, out],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  rmSync(dir, { recursive: true, force: true });
}
