// The antivirus stage and its clamd client alone, against a real clamd (unix socket and TCP):
// clean, infected, a stream over clamd's StreamMaxLength, and clamd's replies parsed.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { antivirusStage } from '../../appliance/pipeline/antivirus.ts';
import { parseReply, ping, scan } from '../../appliance/pipeline/clamd-client.ts';
import type { StageContext } from '../../appliance/pipeline/message-context.ts';
import { startClamd, EICAR, CLAM_EXE, zipOne, type ClamdInstance } from '../helpers/clamd.ts';

let clamd: ClamdInstance;
let small: ClamdInstance;
test.before(async () => {
  [clamd, small] = await Promise.all([startClamd({ tcp: true }), startClamd({ streamMaxLength: '1K' })]);
});
test.after.always(async () => {
  await clamd?.stop();
  await small?.stop();
});

function sc(raw: Buffer): StageContext {
  return {
    msg: { id: 'a', direction: 'inbound', receivedAt: 0, spoolPath: '', size: raw.length, client: { ip: '127.0.0.1', hostname: '', helo: '' }, mailFrom: '', recipients: [] },
    raw, findings: { lists: {}, timings: {} },
  };
}

test('clamd answers PING on the unix socket and on TCP', async (t) => {
  t.true(await ping(clamd.socket));
  t.true(await ping(clamd.tcp!));
  t.false(await ping('/nonexistent.sock'));
});

test('the stage finds EICAR and clam.exe (also zipped) and passes clean data, over both transports', async (t) => {
  for (const target of [clamd.socket, clamd.tcp!]) {
    const opts = { enabled: true, target, timeoutMs: 10_000 };
    const a = sc(EICAR);
    await antivirusStage(a, opts);
    t.deepEqual(a.findings.antivirus, { status: 'infected', virus: 'Mailmoat.Test.EICAR.UNOFFICIAL' });
    const b = sc(zipOne('x/setup.exe', readFileSync(CLAM_EXE)));
    await antivirusStage(b, opts);
    t.deepEqual(b.findings.antivirus, { status: 'infected', virus: 'Mailmoat.Test.ClamExe.UNOFFICIAL' });
    const c = sc(Buffer.alloc(300_000, 'harmless text '));
    await antivirusStage(c, opts);
    t.deepEqual(c.findings.antivirus, { status: 'clean' });
  }
});

test('a file is streamed in chunks, not read whole', async (t) => {
  t.deepEqual(await scan(clamd.socket, { path: CLAM_EXE }, 10_000), { status: 'infected', virus: 'Mailmoat.Test.ClamExe.UNOFFICIAL' });
});

test('a message over clamd\'s StreamMaxLength is a failure that names the likely cause, never clean', async (t) => {
  const justOver = await scan(small.socket, { data: Buffer.alloc(2000, 65) }, 10_000);
  t.is(justOver.status, 'failed');
  const farOver = await scan(small.socket, { data: Buffer.alloc(2_000_000, 65) }, 10_000);
  t.is(farOver.status, 'failed');
  t.regex(farOver.status === 'failed' ? farOver.error : '', /size limit|StreamMaxLength/);
});

test('disabled scanning is recorded as skipped', async (t) => {
  const s = sc(EICAR);
  await antivirusStage(s, { enabled: false, target: clamd.socket, timeoutMs: 1000 });
  t.deepEqual(s.findings.antivirus, { status: 'skipped' });
});

test('clamd replies are parsed strictly', (t) => {
  t.deepEqual(parseReply('stream: OK'), { status: 'clean' });
  t.deepEqual(parseReply('stream: Win.Test.EICAR_HDB-1 FOUND'), { status: 'infected', virus: 'Win.Test.EICAR_HDB-1' });
  t.like(parseReply('INSTREAM size limit exceeded. ERROR'), { status: 'failed' });
  t.regex((parseReply('INSTREAM size limit exceeded. ERROR') as { error: string }).error, /filtering\.oversize\.maxBytes/);
  t.is(parseReply('').status, 'failed');
});
