// The whole pipeline over spooled files, with its real parts: a real clamd with test signatures,
// a real DNS server on loopback, a real LevelDB store and quarantine directory. The SMTP session
// is the lead's (appliance/smtp); here run(ctx) is called as the session calls it after spooling.
//
// Where a test needs a fixed spam score, it uses KeywordScorer below: a stand-in for the
// classifier whose output a test can predict (the real classifier is used in its own test here).
import test from 'ava';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../../appliance/store/store.ts';
import { ConfigService } from '../../appliance/config/config-service.ts';
import { Quarantine } from '../../appliance/quarantine/quarantine-store.ts';
import { createPipeline } from '../../appliance/pipeline/pipeline.ts';
import type { MessageContext } from '../../appliance/pipeline/message-context.ts';
import type { Scorer, ScoreInput } from '../../appliance/pipeline/spam.ts';
import { Classifier } from '../../appliance/classifier/index.ts';
import { startClamd, EICAR, CLAM_EXE, zipOne, type ClamdInstance } from '../helpers/clamd.ts';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.ts';

/** Stand-in classifier: "VIAGRA" scores 99 % (Spam), "PAYPAL-LOGIN" 97 % (Phish), else 3 %. */
class KeywordScorer implements Scorer {
  calls = 0;
  async score(input: ScoreInput) {
    this.calls++;
    const text = input.raw.toString('latin1');
    if (text.includes('VIAGRA')) return { score: 99, classHint: 'Spam' as const, reasons: [{ name: 'KEYWORD_VIAGRA', contribution: 5 }] };
    if (text.includes('PAYPAL-LOGIN')) return { score: 97, classHint: 'Phish' as const, reasons: [{ name: 'PHISH_FORM', contribution: 4 }] };
    return { score: 3, classHint: 'Not Spam' as const, reasons: [{ name: 'HAM_TOKENS', contribution: -3 }] };
  }
}

let clamd: ClamdInstance;
let dns: DnsServer;
test.before(async () => {
  [clamd, dns] = await Promise.all([
    startClamd(),
    startDnsServer({
      'good.test': { TXT: ['v=spf1 ip4:192.0.2.10 -all'] },
      'bank.test': { TXT: ['v=spf1 ip4:192.0.2.99 -all'] },
      '_dmarc.bank.test': { TXT: ['v=DMARC1; p=reject'] },
    }),
  ]);
});
test.after.always(async () => {
  await clamd?.stop();
  await dns?.close();
});

interface Setup {
  run(raw: Buffer | string, over?: Partial<MessageContext>): ReturnType<ReturnType<typeof createPipeline>['run']>;
  pipeline: ReturnType<typeof createPipeline>;
  quarantine: Quarantine;
  dataDir: string;
}

let seq = 0;
async function setup(t: { teardown(fn: () => Promise<void>): void }, filtering: Record<string, unknown> = {}, opts: { scorer?: Scorer | null; clamd?: string } = {}): Promise<Setup> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-pipe-'));
  const store = await openStore(dataDir);
  t.teardown(async () => { await store.close(); await rm(dataDir, { recursive: true, force: true }); });
  const config = await ConfigService.open(store);
  await config.replace({ hostname: 'mailmoat.test', filtering: { ...filtering, antivirus: { clamd: '/nonexistent', timeoutSeconds: 5, ...(filtering.antivirus as object ?? {}) } } });
  const quarantine = await Quarantine.open(store, dataDir);
  const scorer = opts.scorer === null ? undefined : opts.scorer ?? new KeywordScorer();
  const pipeline = createPipeline({ config, store, quarantine, scorer, resolver: dns.resolver, clamd: opts.clamd ?? clamd.socket });
  t.teardown(() => pipeline.close());
  await mkdir(path.join(dataDir, 'spool'));
  return {
    pipeline, quarantine, dataDir,
    async run(raw, over = {}) {
      const id = `Q${++seq}`;
      const spoolPath = path.join(dataDir, 'spool', `${id}.eml`);
      const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
      await writeFile(spoolPath, buf);
      return pipeline.run({
        id, direction: 'inbound', receivedAt: Date.now(), spoolPath, size: buf.length,
        client: { ip: '192.0.2.10', hostname: 'mx.good.test', helo: 'mx.good.test' },
        mailFrom: 'alice@good.test',
        recipients: [{ address: 'bob@example.com', original: 'bob@example.com', domain: 'example.com' }],
        ...over,
      });
    },
  };
}

const plain = (body: string, headers: Record<string, string> = {}) => [
  'Received: from mx.good.test ([192.0.2.10]) by mailmoat.test', 'From: Alice <alice@good.test>', 'To: bob@example.com', 'Subject: Hello',
  'Message-ID: <m1@good.test>', 'Date: Mon, 23 Nov 2026 10:00:00 +0000', 'MIME-Version: 1.0',
  ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), 'Content-Type: text/plain; charset=utf-8', '', body, '',
].join('\r\n');

const withAttachment = (name: string, data: Buffer, type = 'application/octet-stream') => [
  'From: alice@good.test', 'To: bob@example.com', 'Subject: invoice', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="XB"', '',
  '--XB', 'Content-Type: text/plain', '', 'see attachment', '--XB',
  `Content-Type: ${type}; name="${name}"`, `Content-Disposition: attachment; filename="${name}"`, 'Content-Transfer-Encoding: base64', '',
  data.toString('base64').replace(/.{76}/g, '$&\r\n'), '--XB--', '',
].join('\r\n');

const header = (o: { headerEdits: { prepend: [string, string][] } }, name: string) => o.headerEdits.prepend.find(([n]) => n === name)?.[1];

test('a clean message is accepted and stamped (SPF pass, score, class, reasons)', async (t) => {
  const s = await setup(t);
  const out = await s.run(plain('hello Bob'));
  t.is(out.reply.code, 250);
  t.is(out.recipients.length, 1);
  t.like(out.recipients[0], { address: 'bob@example.com', disposition: 'deliver', mainClass: 'Not Spam' });
  t.regex(header(out.recipients[0], 'Authentication-Results') ?? '', /spf=pass/);
  t.truthy(header(out.recipients[0], 'Received-SPF'));
  t.is(header(out.recipients[0], 'X-Mailmoat-Spam-Score'), '3.00%');
  t.is(header(out.recipients[0], 'X-Mailmoat-Class'), 'Not Spam');
  t.regex(header(out.recipients[0], 'X-Mailmoat-Reasons') ?? '', /HAM_TOKENS\(-3\.00\)/);
  t.is(out.findings.antivirus?.status, 'clean');
  t.is(out.quarantineId, undefined);
});

const VIRUSES: [string, () => Buffer, RegExp][] = [
  ['EICAR as a MIME attachment', () => Buffer.from(withAttachment('eicar.com', EICAR)), /EICAR/],
  ['clam.exe as a MIME attachment', () => Buffer.from(withAttachment('clam.exe', readFileSync(CLAM_EXE))), /ClamExe/],
  ['EICAR inside a zip attachment', () => Buffer.from(withAttachment('docs.zip', zipOne('eicar.com', EICAR), 'application/zip')), /EICAR/],
  ['clam.exe inside a zip attachment', () => Buffer.from(withAttachment('setup.zip', zipOne('setup.exe', readFileSync(CLAM_EXE)), 'application/zip')), /ClamExe/],
];
for (const [name, make, virus] of VIRUSES) {
  test(`a virus is rejected with 554: ${name}`, async (t) => {
    const s = await setup(t);
    const out = await s.run(make());
    t.is(out.reply.code, 554);
    t.regex(out.reply.message, virus);
    t.is(out.findings.antivirus?.status, 'infected');
    t.is(out.recipients[0].mainClass, 'Virus');
  });
}

test('a virus quarantined (rule) with the 250 response is stored durably with its virus name', async (t) => {
  const s = await setup(t, { rules: [{ class: 'Virus', action: 'quarantine' }], quarantineResponse: 'accept' });
  const raw = Buffer.from(withAttachment('eicar.com', EICAR));
  const out = await s.run(raw);
  t.is(out.reply.code, 250);
  t.is(out.recipients[0].disposition, 'quarantine');
  t.truthy(out.quarantineId);
  const rec = await s.quarantine.get(out.quarantineId!);
  t.regex(rec?.virus ?? '', /EICAR/);
  t.is(rec?.mainClass, 'Virus');
  t.deepEqual(await readFile(s.quarantine.blobPath(rec!)), raw);
});

test('clamd down answers 451 (never "clean"); fail-open passes it as Unknown', async (t) => {
  const s = await setup(t, {}, { clamd: '/nonexistent/clamd.sock' });
  const out = await s.run(plain('hello'));
  t.is(out.reply.code, 451);
  t.is(out.findings.antivirus?.status, 'failed');
  const open = await setup(t, { antivirus: { onFailure: 'pass' } }, { clamd: '/nonexistent/clamd.sock' });
  const out2 = await open.run(plain('hello'));
  t.is(out2.reply.code, 250);
  t.like(out2.recipients[0], { disposition: 'deliver', mainClass: 'Unknown' });
  t.regex(header(out2.recipients[0], 'X-Mailmoat-Reasons') ?? '', /AV_NOT_SCANNED/);
});

test('clamd hanging (stopped) times out and answers 451', async (t) => {
  const own = await startClamd();
  t.teardown(async () => { process.kill(own.pid, 'SIGCONT'); await own.stop(); });
  process.kill(own.pid, 'SIGSTOP');
  const s = await setup(t, { antivirus: { timeoutSeconds: 1 } }, { clamd: own.socket });
  const out = await s.run(plain('hello'));
  t.is(out.reply.code, 451);
  t.regex(out.findings.antivirus?.error ?? '', /did not answer/);
});

test('malformed MIME gets class Error and its action (quarantine → 550 "held for review", without the quarantine id)', async (t) => {
  const s = await setup(t);
  const out = await s.run('From: a@good.test\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\nno parts\r\n');
  t.is(out.recipients[0].mainClass, 'Error');
  t.is(out.reply.code, 550);
  t.truthy(out.quarantineId);
  t.is(out.reply.message, '5.7.1 Message not delivered: held for review');
  t.false(out.reply.message.includes(out.quarantineId!));
  t.truthy(await s.quarantine.get(out.quarantineId!));
});

test('spam to two recipients: one allow-listed (delivered, Whitelisted), the other quarantined; reply 250', async (t) => {
  const s = await setup(t);
  const lists = await s.pipeline.lists();
  await lists.add({ direction: 'inbound', kind: 'sender-allow', scope: 'address', owner: 'bob@example.com', value: 'good.test' });
  const out = await s.run(plain('VIAGRA now'), {
    recipients: [
      { address: 'bob@example.com', original: 'bob@example.com', domain: 'example.com' },
      { address: 'carol@example.com', original: 'carol@example.com', domain: 'example.com' },
    ],
  });
  t.is(out.reply.code, 250);
  t.like(out.recipients[0], { address: 'bob@example.com', disposition: 'deliver', mainClass: 'Whitelisted' });
  t.like(out.recipients[1], { address: 'carol@example.com', disposition: 'quarantine', mainClass: 'Spam' });
  const rec = await s.quarantine.get(out.quarantineId!);
  t.deepEqual(rec?.recipients.map((r) => r.address), ['carol@example.com']);
});

test('a reject for one recipient among accepting ones becomes quarantine; all rejecting gives 550', async (t) => {
  const s = await setup(t, { rules: [{ class: 'Spam', action: 'reject' }] });
  const lists = await s.pipeline.lists();
  await lists.add({ direction: 'inbound', kind: 'recipient-allow', scope: 'domain', owner: 'example.com', value: 'bob@example.com' });
  const two = [
    { address: 'bob@example.com', original: 'bob@example.com', domain: 'example.com' },
    { address: 'carol@example.com', original: 'carol@example.com', domain: 'example.com' },
  ];
  const mixed = await s.run(plain('VIAGRA'), { recipients: two });
  t.is(mixed.reply.code, 250);
  t.like(mixed.recipients[1], { disposition: 'quarantine', mainClass: 'Spam' });
  t.regex(mixed.recipients[1].why.join(' '), /quarantined instead/);
  const all = await s.run(plain('VIAGRA'), { recipients: [two[1]] });
  t.is(all.reply.code, 550);
  t.is(all.quarantineId, undefined);
});

test('subject tag: Spam accepted with a configured tag', async (t) => {
  const s = await setup(t, { rules: [{ class: 'Spam', action: 'tag', tag: 'MEIWAKU!!' }] });
  const out = await s.run(plain('VIAGRA'));
  t.is(out.reply.code, 250);
  t.like(out.recipients[0], { disposition: 'deliver', mainClass: 'Spam' });
  t.is(out.recipients[0].headerEdits.subjectPrefix, 'MEIWAKU!!');
  t.is(header(out.recipients[0], 'X-Mailmoat-Spam-Score'), '99.00%');
});

test('a message over filtering.oversize is not scanned: quarantined by default, 552 when set to reject, delivered for an allowed sender', async (t) => {
  const big = plain(`${'VIAGRA '.repeat(300)}\r\n`); // ~2 KiB, over a 1 KiB limit
  const held = await setup(t, { oversize: { maxBytes: 1024 }, quarantineResponse: 'accept' });
  const out = await held.run(big);
  t.is(out.reply.code, 250);
  t.like(out.recipients[0], { disposition: 'quarantine', mainClass: 'Unknown' });
  t.is(out.findings.oversize, 1024);
  t.is(out.findings.antivirus?.status, 'skipped');
  t.is(out.findings.spam, undefined, 'not scored');
  t.truthy(out.quarantineId);
  t.regex(out.recipients[0].why.join(' '), /larger than 1024 bytes/);

  const refused = await setup(t, { oversize: { maxBytes: 1024, action: 'reject' } });
  const no = await refused.run(big);
  t.is(no.reply.code, 552);
  t.regex(no.reply.message, /too big to be scanned.*1024/);
  t.like((await refused.run(plain('small'))).reply, { code: 250 });

  const lists = await refused.pipeline.lists();
  await lists.add({ direction: 'inbound', kind: 'sender-allow', scope: 'domain', owner: 'example.com', value: 'good.test' });
  const allowed = await refused.run(big);
  t.is(allowed.reply.code, 250);
  t.like(allowed.recipients[0], { disposition: 'deliver', mainClass: 'Whitelisted' });
});

test('a condition block list deletes silently; a condition quarantine list quarantines', async (t) => {
  const s = await setup(t, { quarantineResponse: 'accept' });
  const lists = await s.pipeline.lists();
  await lists.add({ direction: 'inbound', kind: 'condition-block', scope: 'domain', owner: 'example.com', field: 'subject', mode: 'partial', value: '未承諾広告' });
  await lists.add({ direction: 'inbound', kind: 'condition-quarantine', scope: 'domain', owner: 'example.com', field: 'header', header: 'X-Campaign', mode: 'exact', value: 'spring' });
  const jaSubject = `=?UTF-8?B?${Buffer.from('【未承諾広告】セール').toString('base64')}?=`;
  const del = await s.run(plain('x').replace('Subject: Hello', `Subject: ${jaSubject}`));
  t.is(del.reply.code, 250);
  t.like(del.recipients[0], { disposition: 'delete', mainClass: 'Blacklisted' });
  const q = await s.run(plain('x', { 'X-Campaign': 'Spring' }));
  t.like(q.recipients[0], { disposition: 'quarantine' });
  t.truthy(q.quarantineId);
});

test('the recipient block list refuses at RCPT time and in the pipeline', async (t) => {
  const s = await setup(t);
  const lists = await s.pipeline.lists();
  await lists.add({ direction: 'inbound', kind: 'recipient-block', scope: 'domain', owner: 'example.com', value: 'gone@example.com' });
  t.is(await s.pipeline.checkRecipient('inbound', 'Gone@Example.com'), 'blocked');
  t.is(await s.pipeline.checkRecipient('inbound', 'bob@example.com'), 'ok');
  const out = await s.run(plain('hi'), { recipients: [{ address: 'gone@example.com', original: 'gone@example.com', domain: 'example.com' }] });
  t.is(out.reply.code, 550);
});

test('DMARC p=reject failure (forged From:) is rejected as Phish', async (t) => {
  const s = await setup(t);
  const out = await s.run(plain('verify your account').replace('From: Alice <alice@good.test>', 'From: Bank <security@bank.test>'), { mailFrom: 'bounce@good.test' });
  t.is(out.findings.auth?.dmarc?.result, 'fail');
  t.is(out.reply.code, 550);
  t.is(out.recipients[0].mainClass, 'Phish');
});

test('outbound mail skips SPF/DMARC and uses the outbound lists of the sender', async (t) => {
  const s = await setup(t);
  const lists = await s.pipeline.lists();
  await lists.add({ direction: 'outbound', kind: 'sender-block', scope: 'domain', owner: 'example.com', value: 'intern@example.com' });
  await lists.add({ direction: 'inbound', kind: 'sender-block', scope: 'domain', owner: 'far.test', value: 'bob@example.com' });
  const outbound = (from: string) => s.run(plain('quarterly numbers').replace('alice@good.test', from), {
    direction: 'outbound', mailFrom: from, client: { ip: '127.0.0.1', hostname: 'localhost', helo: 'pc1', authUser: from },
    recipients: [{ address: 'partner@far.test', original: 'partner@far.test', domain: '' }],
  });
  const ok = await outbound('bob@example.com');
  t.is(ok.reply.code, 250);
  t.is(ok.findings.auth, undefined);
  t.is(header(ok.recipients[0], 'Authentication-Results'), undefined);
  t.like(ok.recipients[0], { disposition: 'deliver', mainClass: 'Not Spam' });
  const blocked = await outbound('intern@example.com');
  t.is(blocked.reply.code, 550);
  t.is(blocked.recipients[0].mainClass, 'Blacklisted');
});

test('filtering.outboundRules: outbound Spam rejected with 5xx while inbound Spam is quarantined; without it outbound follows rules', async (t) => {
  const outbound: Partial<MessageContext> = {
    direction: 'outbound', mailFrom: 'bob@example.com', client: { ip: '127.0.0.1', hostname: 'localhost', helo: 'pc1', authUser: 'bob@example.com' },
    recipients: [{ address: 'partner@far.test', original: 'partner@far.test', domain: '' }],
  };
  const spam = plain('VIAGRA').replace('alice@good.test', 'bob@example.com');
  const s = await setup(t, { rules: [{ class: 'Spam', action: 'quarantine' }], outboundRules: [{ class: 'Spam', action: 'reject' }], quarantineResponse: 'accept' });
  const out = await s.run(spam, outbound);
  t.is(out.reply.code, 550);
  t.regex(out.reply.message, /^5\.7\.1 Message rejected as Spam/);
  t.like(out.recipients[0], { disposition: 'reject', mainClass: 'Spam' });
  t.true(out.recipients[0].why.includes('outbound rule for Spam: reject'));
  t.is(out.quarantineId, undefined);
  const inbound = await s.run(plain('VIAGRA'));
  t.is(inbound.reply.code, 250);
  t.like(inbound.recipients[0], { disposition: 'quarantine', mainClass: 'Spam' });
  t.truthy(inbound.quarantineId);

  const shared = await setup(t, { rules: [{ class: 'Spam', action: 'tag', tag: 'MEIWAKU!!' }] });
  const tagged = await shared.run(spam, outbound);
  t.is(tagged.reply.code, 250);
  t.like(tagged.recipients[0], { disposition: 'deliver', mainClass: 'Spam' });
  t.is(tagged.recipients[0].headerEdits.subjectPrefix, 'MEIWAKU!!');
});

test('with the real classifier (starter model) the message gets a score header with two decimals', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-cls-'));
  const store = await openStore(dataDir);
  t.teardown(async () => { await store.close(); await rm(dataDir, { recursive: true, force: true }); });
  const classifier = await Classifier.open(store);
  await classifier.installStarterModel();
  const scorer: Scorer = classifier;
  const s = await setup(t, {}, { scorer });
  const out = await s.run(plain('Meeting moved to 3pm, see agenda attached.'));
  t.is(out.reply.code, 250);
  t.regex(header(out.recipients[0], 'X-Mailmoat-Spam-Score') ?? '', /^\d{1,3}\.\d\d%$/);
  t.not(out.recipients[0].mainClass, 'Unknown');
});

test('without a scorer the class is Unknown and no score header is added', async (t) => {
  const s = await setup(t, {}, { scorer: null });
  const out = await s.run(plain('hello'));
  t.like(out.recipients[0], { mainClass: 'Unknown', disposition: 'deliver' });
  t.is(header(out.recipients[0], 'X-Mailmoat-Spam-Score'), undefined);
});
