// Starts the real appliance (store, listeners, delivery) in a temporary data folder with a
// configuration file, listening on loopback ports chosen by the system.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { startAppliance, type Appliance, type ApplianceOptions } from '../../appliance/main.ts';

export interface TestAppliance {
  app: Appliance;
  dataDir: string;
  inbound: number;
  submission: number;
  /** Stops the appliance (if running) and removes its data. */
  cleanup(): Promise<void>;
}

/** A configuration for tests: loopback listeners on free ports, fast retries. */
export function testConfig(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    hostname: 'mx.mailmoat.test',
    listeners: { inbound: { address: '127.0.0.1', port: 0 }, submission: { address: '127.0.0.1', port: 0 }, console: { address: '127.0.0.1', port: 0 } },
    delivery: { retryMinutes: [0.01], connectTimeoutSeconds: 5 },
    ...overrides,
  };
}

export async function writeConfig(dir: string, config: Record<string, unknown>): Promise<string> {
  const file = path.join(dir, 'config.yaml');
  await writeFile(file, YAML.stringify(config));
  return file;
}

export async function startTestAppliance(config: Record<string, unknown>, opts: Partial<ApplianceOptions> = {}): Promise<TestAppliance> {
  const dataDir = opts.dataDir ?? await mkdtemp(path.join(os.tmpdir(), 'mailmoat-test-'));
  const configFile = await writeConfig(dataDir, testConfig(config));
  const app = await startAppliance({ say: () => {}, console: false, starterModel: false, ...opts, dataDir, configFile });
  let stopped = false;
  return {
    app, dataDir,
    inbound: app.ports().inbound,
    submission: app.ports().submission,
    async cleanup() {
      if (!stopped) { stopped = true; await app.stop(); }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function message(opts: { from?: string; to?: string; subject?: string; body?: string; headers?: string[] } = {}): string {
  return [
    `From: ${opts.from ?? 'sender@example.net'}`,
    `To: ${opts.to ?? 'user@example.com'}`,
    `Subject: ${opts.subject ?? 'hello'}`,
    `Message-ID: <${Math.random().toString(36).slice(2)}@example.net>`,
    'Date: Mon, 23 Nov 2026 10:00:00 +0000',
    ...(opts.headers ?? []),
    '',
    opts.body ?? 'Hello there.',
    '',
  ].join('\r\n');
}

export async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
