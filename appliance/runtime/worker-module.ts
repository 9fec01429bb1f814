// The module a worker thread starts on, beside the module that starts it. The daemon runs either
// from its TypeScript sources (tests, the `mailmoat` command) or compiled to JavaScript
// (scripts/build-daemon.ts: `npm start`, the image); the compiler rewrites import specifiers but
// not a module's path given to `new URL`, and a compiled daemon must not start a thread on a .ts
// file (the thread would load Node's type stripper, which is what compiling saves: issue 12).
import path from 'node:path';

/** `stem` with the extension of `importMetaUrl`'s own module, resolved beside it. */
export function workerModule(importMetaUrl: string, stem: string): URL {
  return new URL(`./${stem}${path.extname(new URL(importMetaUrl).pathname)}`, importMetaUrl);
}
