// `npm run build`: the daemon compiled to JavaScript into ROOT/compiled (tsconfig.build.json),
// with the files under ROOT/appliance that are not TypeScript (the starter model, which the image
// build makes afresh there) copied beside their modules. `npm start`, the bench and the image run
// compiled/cli/mailmoat.js: Node then never loads its type stripper (amaro, swc compiled to
// WebAssembly), which every thread that imports a .ts module pays for in memory (issue 12; figures
// in the README); so does the box's `mailmoat` command. The tests run the sources. The folder is made afresh
// each time, so a module deleted from the sources is not left behind.
//   node scripts/build-daemon.ts [ROOT]   ROOT: the tree to build into (default this one; the
//                                         image's staging folder, which holds web-ui/dist and package.json)
import { execFile } from 'node:child_process';
import { cp, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const HERE = path.resolve(import.meta.dirname, '..');

export async function buildDaemon(root: string = HERE): Promise<string> {
  const out = path.join(root, 'compiled');
  await rm(out, { recursive: true, force: true });
  const tsc = path.join(HERE, 'node_modules/typescript/bin/tsc');
  await promisify(execFile)(process.execPath, [tsc, '-p', path.join(HERE, 'tsconfig.build.json'), '--outDir', out]).catch((e: Error & { stdout?: string }) => {
    throw new Error(`compiling the daemon failed:\n${e.stdout ?? e.message}`);
  });
  const sources = path.join(root, 'appliance');
  for (const entry of await readdir(sources, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.endsWith('.ts')) continue;
    const rel = path.relative(sources, path.join(entry.parentPath, entry.name));
    await cp(path.join(sources, rel), path.join(out, rel));
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`daemon compiled into ${await buildDaemon(process.argv[2] ? path.resolve(process.argv[2]) : undefined)}`);
}
