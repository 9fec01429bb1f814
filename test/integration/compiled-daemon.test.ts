// The daemon as `npm start` and the image run it: compiled to JavaScript (scripts/build-daemon.ts)
// and started with Node's type stripping turned off, so that any module or worker thread that
// still loaded a .ts file would fail (issue 12: the stripper costs every thread memory). The other
// tests run the TypeScript sources, which is what they check; this one checks the compiled tree.
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { buildDaemon } from '../../scripts/build-daemon.ts';
import { shippedNodeFlags } from '../../scripts/bench/daemon.ts';
import { message, testConfig, writeConfig } from '../helpers/appliance.ts';
import { startDaemon } from '../helpers/daemon.ts';
import { sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

test('the compiled daemon starts, analyses mail in its analysis thread and delivers it, with type stripping turned off', async (t) => {
  // A tree of its own, so the test never races `npm start` or the bench over <repository>/compiled.
  const tree = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-compiled-'));
  const sink = await startSink();
  t.teardown(async () => { await sink.stop(); await rm(tree, { recursive: true, force: true }); });
  for (const dir of ['node_modules', 'appliance']) await symlink(path.join(ROOT, dir), path.join(tree, dir));
  const compiled = await buildDaemon(tree);

  const dataDir = path.join(tree, 'data');
  const configFile = await writeConfig(tree, testConfig({
    domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: sink.port }] }],
    // every class delivered: the stamped headers show that the analysis ran
    filtering: { rules: [], antivirus: { enabled: false } },
  }));
  const daemon = await startDaemon(configFile, dataDir, {
    script: path.join(compiled, 'cli/mailmoat.js'),
    nodeFlags: [...await shippedNodeFlags(), '--no-experimental-strip-types'],
  });
  t.teardown(() => { daemon.child.kill('SIGTERM'); });

  const sent = await sendMail({ port: daemon.inbound, from: 'alice@example.net', to: ['bob@example.com'], raw: message({ subject: 'compiled' }) });
  t.is(sent.code, 250, sent.response);
  const [got] = await sink.waitFor(1);
  t.regex(got.raw.toString(), /^X-Mailmoat-Class: \w+/m);
  t.regex(got.raw.toString(), /Subject: compiled/);
});
