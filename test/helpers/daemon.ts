// The daemon as users run it: `mailmoat start` in a child process, so tests can SIGTERM or
// SIGKILL it like a real crash. The listening ports are read from its start-up lines.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface Daemon {
  child: ChildProcess;
  inbound: number;
  submission: number;
  output: () => string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
}

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * `seed`: the file only fills an empty store (--seed-config, as the image starts), so a restored
 * configuration stays. `script`: the command to run instead of the sources' bin/mailmoat.js (the
 * compiled daemon, compiled/cli/mailmoat.js); `nodeFlags`: Node's own flags before it.
 */
export async function startDaemon(configFile: string, dataDir: string, opts: { seed?: boolean; script?: string; nodeFlags?: string[] } = {}): Promise<Daemon> {
  const script = opts.script ?? path.join(ROOT, 'bin/mailmoat.js');
  const child = spawn(process.execPath, [...opts.nodeFlags ?? [], script, 'start', opts.seed ? '--seed-config' : '--config', configFile, '--data', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  child.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
  const deadline = Date.now() + 60_000;
  while (!/mailmoat: running/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the daemon did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const port = (kind: string) => Number(new RegExp(`${kind} SMTP listening on [^\\n]*:(\\d+)`).exec(out)![1]);
  return { child, inbound: port('inbound'), submission: port('submission'), output: () => out, exited };
}
