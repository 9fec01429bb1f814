// Starts sink.ts as a child process and talks to it over the IPC channel (one question at a time).
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

export interface SinkClient {
  pid: number;
  port: number;
  stats(): Promise<{ count: number; bytes: number; last: number; dupes: number; noSeq: number; stamped: number }>;
  /** Arrival time (epoch ms) by X-Bench-Seq. */
  seqs(): Promise<Map<number, number>>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSink(): Promise<SinkClient> {
  const child: ChildProcess = fork(path.join(import.meta.dirname, 'sink.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [hello] = await once(child, 'message') as [{ port: number }];
  let chain: Promise<unknown> = Promise.resolve();
  const ask = <T>(cmd: string): Promise<T> => {
    const p = chain.then(async () => { child.send(cmd); return (await once(child, 'message'))[0] as T; });
    chain = p.catch(() => {});
    return p;
  };
  return {
    pid: child.pid!,
    port: hello.port,
    stats: () => ask('stats'),
    seqs: async () => new Map((await ask<{ seqs: [number, number][] }>('seqs')).seqs),
    reset: async () => { await ask('reset'); },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.disconnect();
      await exited;
    },
  };
}
