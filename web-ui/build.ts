// Builds the web console: bundles web-ui/src/main.ts (Lit components, the shared i18n catalog,
// typebox's validator) with esbuild into web-ui/dist/app.js and copies the static files.
// Run with `npm run build:web`; the e2e test helper runs it too, so `npm test` tests fresh code.
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import * as esbuild from 'esbuild';

const here = import.meta.dirname;
export const DIST = path.join(here, 'dist');

export async function buildWeb(): Promise<void> {
  await mkdir(DIST, { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(here, 'src/main.ts')],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    outfile: path.join(DIST, 'app.js'),
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'app.css', 'favicon.svg']) await copyFile(path.join(here, 'src', file), path.join(DIST, file));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildWeb();
  console.log(`web console built into ${DIST}`);
}
