// The policy and feedback API with the three roles: a domain admin sets only the settings the
// appliance admin lets domains override (a clear 403 naming the others, quotas never), for their
// own domains and mailboxes; every effective value says where it comes from; a mailbox user reads
// their own mailbox's policy and nobody else's. Mailbox users report spam / not spam by upload,
// from the quarantine and from the message log: a real classifier learns each report (a second
// identical report changes nothing), each is audited, and a domain admin can turn reports off for
// their domain. Quarantine usage is shown within the caller's scope.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { quarantineProvider } from '../../appliance/api/providers/quarantine.ts';
import { messageLogProvider } from '../../appliance/api/providers/message-log.ts';
import { quotaProvider } from '../../appliance/api/providers/quota.ts';
import { trainingProvider } from '../../appliance/api/providers/training.ts';
import { Classifier } from '../../appliance/classifier/index.ts';
import { ListsStore } from '../../appliance/lists/lists-store.ts';
import { MessageLog } from '../../appliance/logsearch/message-log.ts';
import { createQuarantineActions, type DeliveryRequest } from '../../appliance/quarantine/actions.ts';
import { Quarantine } from '../../appliance/quarantine/quarantine-store.ts';
import { QuarantineQuota } from '../../appliance/quarantine/quota.ts';
import { openStore } from '../../appliance/store/store.ts';
import type { Config } from '../../appliance/config/schema.ts';
import { makeConsole, TWO_DOMAINS } from '../helpers/console-api.ts';

const RAW = (n: number) => `From: promo@shop.test\r\nTo: carol@a.example\r\nSubject: cheap pills ${n}\r\nMessage-ID: <f${n}@shop.test>\r\n\r\nBuy cheap pills now, offer ${n}.\r\n`;

async function setup(t: Parameters<typeof makeConsole>[0]) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-policy-api-'));
  const store = await openStore(dataDir);
  t.teardown(async () => { await store.close(); await rm(dataDir, { recursive: true, force: true }); });
  const classifier = await Classifier.open(store);
  const quarantine = await Quarantine.open(store, dataDir);
  const lists = await ListsStore.open(store);
  const log = await MessageLog.open(store);
  const delivered: DeliveryRequest[] = [];
  const actions = createQuarantineActions({ quarantine, lists, scorer: classifier, deliver: async (req) => { delivered.push(req); } });
  let config: () => Config = () => { throw new Error('not yet'); };
  const quota = new QuarantineQuota({ quarantine, config: () => config(), notify: async () => {} });
  const h = await makeConsole(t, {
    config: TWO_DOMAINS,
    providers: {
      training: trainingProvider(classifier), quarantine: quarantineProvider(quarantine, actions), log: messageLogProvider(log),
      quota: quotaProvider(quarantine, quota, () => config()),
    },
  });
  config = () => h.server.context.config.current;
  await h.addUser('root', 'admin');
  await h.addUser('alice', 'domain-admin', ['a.example']);
  await h.addUser('carol@a.example', 'user');
  await h.addUser('dave@b.example', 'user');
  await mkdir(path.join(dataDir, 'spool'));
  let n = 0;
  /** A message held for `to`, logged under the same id, as the mail path leaves it. */
  const hold = async (to: string) => {
    const id = `Q${++n}`;
    const file = path.join(dataDir, 'spool', `${id}.eml`);
    await writeFile(file, RAW(n));
    const domain = to.slice(to.indexOf('@') + 1);
    await quarantine.put({
      queueId: id, receivedAt: Date.now(), direction: 'inbound', mailFrom: 'promo@shop.test', fromHeader: 'promo@shop.test', subject: `cheap pills ${n}`,
      messageId: `<f${n}@shop.test>`, size: RAW(n).length, mainClass: 'Spam', reasons: [], clientIp: '192.0.2.1',
      recipients: [{ address: to, domain, mainClass: 'Spam', headerEdits: { prepend: [] }, why: ['score'] }],
    }, file);
    await log.put({ id, receivedAt: Date.now(), direction: 'inbound', mailFrom: 'promo@shop.test', recipients: [{ address: to, original: to, status: 'quarantined' }], size: RAW(n).length, attempts: [], status: 'quarantined' });
    return { id, raw: RAW(n) };
  };
  return {
    h, classifier, lists, quarantine, delivered, hold,
    root: await h.login('root'), alice: await h.login('alice'), carol: await h.login('carol@a.example'), dave: await h.login('dave@b.example'),
  };
}

test('override permissions: a domain admin sets only what domains may override, in their own domains; every value says where it comes from', async (t) => {
  const { h, root, alice, carol, dave } = await setup(t);
  const put = (as: typeof root, url: string, body: unknown) => h.request('PUT', url, { as, body });

  const ok = await put(alice, '/api/policy/domains/a.example', { spamThreshold: 70, actions: [{ class: 'Spam', action: 'tag', tag: 'MEIWAKU!!' }] });
  t.is(ok.status, 200, JSON.stringify(ok.json));
  t.deepEqual(ok.json.effective.settings.spamThreshold, { value: 70, source: 'domain' });
  t.deepEqual(ok.json.effective.settings.unsureThreshold, { value: 60, source: 'appliance' });
  t.like(ok.json.effective.actions.find((a: { class: string }) => a.class === 'Spam'), { action: 'tag', tag: 'MEIWAKU!!', source: 'domain' });
  t.false(ok.json.effective.overridable.stampHeaders);

  const refused = await put(alice, '/api/policy/domains/a.example', { spamThreshold: 70, stampHeaders: false });
  t.is(refused.status, 403);
  t.regex(refused.json.error.message, /Domains may not set stampHeaders/);
  t.is((await put(alice, '/api/policy/domains/a.example', { spamThreshold: 70, domainQuota: { maxMessages: 1_000_000 } })).json.error.params.settings, 'domainQuota');
  t.is((await put(alice, '/api/policy/domains/b.example', { spamThreshold: 50 })).status, 403, 'not her domain');
  t.is(h.server.context.config.current.policy.domains['a.example'].stampHeaders, undefined, 'a refused change changes nothing');
  const typo = await put(alice, '/api/policy/domains/a.example', { spamThresold: 50 });
  t.is(typo.status, 400);

  // The appliance admin sets anything; the domain admin may keep it while changing what she may.
  t.is((await put(root, '/api/policy/domains/a.example', { spamThreshold: 70, stampHeaders: false })).status, 200);
  t.is((await put(alice, '/api/policy/domains/a.example', { spamThreshold: 65, stampHeaders: false })).status, 200);
  // And lets domains override one more setting: now she may change it.
  await h.server.context.config.replace({ ...h.server.context.config.current, policy: { ...h.server.context.config.current.policy, domainsMayOverride: ['spamThreshold', 'stampHeaders'] } });
  t.is((await put(alice, '/api/policy/domains/a.example', { spamThreshold: 65, stampHeaders: true })).status, 200);

  const mailbox = await put(alice, '/api/policy/mailboxes/carol@a.example', { spamThreshold: 95 });
  t.is(mailbox.status, 200, JSON.stringify(mailbox.json));
  const mine = await h.request('GET', '/api/policy/mailboxes/carol@a.example', { as: carol });
  t.is(mine.status, 200);
  t.deepEqual(mine.json.effective.settings.spamThreshold, { value: 95, source: 'mailbox' });
  t.deepEqual(mine.json.effective.settings.stampHeaders, { value: true, source: 'domain' });
  t.deepEqual(mine.json.effective.settings.retentionDays, { value: 30, source: 'appliance' });
  t.is((await h.request('GET', '/api/policy/mailboxes/dave@b.example', { as: carol })).status, 403);
  t.is((await put(carol, '/api/policy/mailboxes/carol@a.example', { spamThreshold: 99 })).status, 403, 'mailbox users read, they do not set');
  t.is((await put(alice, '/api/policy/mailboxes/dave@b.example', { spamThreshold: 99 })).status, 403);
  t.is((await h.request('GET', '/api/policy/domains/a.example', { as: dave })).status, 403);

  // Clearing a level stores nothing: every value is inherited again.
  const cleared = await put(alice, '/api/policy/mailboxes/carol@a.example', {});
  t.deepEqual(cleared.json.effective.settings.spamThreshold, { value: 65, source: 'domain' });
  t.false('carol@a.example' in h.server.context.config.current.policy.mailboxes);

  const audit = await h.request('GET', '/api/audit?limit=100', { as: root });
  t.true(audit.json.items.some((r: { actor: string; action: string }) => r.actor === 'alice' && r.action === 'PUT /api/policy/domains/:name'));
});

test('feedback: uploads, quarantine and message-log reports train the classifier, are audited, and stop when the domain turns them off', async (t) => {
  const { h, root, alice, carol, dave, hold, quarantine, lists, delivered } = await setup(t);
  const upload = (as: typeof carol, as_: 'spam' | 'ham', raw: string) => h.request('POST', `/api/feedback/upload?as=${as_}&filename=m.eml`,
    { as, body: Buffer.from(raw), headers: { 'content-type': 'application/octet-stream' } });

  const first = await upload(carol, 'spam', RAW(100));
  t.like(first.json, { ok: true, key: 'training-result.learnt-spam' });
  t.like((await upload(carol, 'spam', RAW(100))).json, { key: 'training-result.already-spam' }, 'learnt once');

  // "This is spam" from the quarantine: learnt, and the copy deleted.
  const spam = await hold('carol@a.example');
  const reported = await h.request('POST', `/api/quarantine/${spam.id}/report-spam`, { as: carol, body: {} });
  t.is(reported.status, 200, JSON.stringify(reported.json));
  t.is(await quarantine.get(spam.id), undefined);
  t.like((await upload(carol, 'spam', spam.raw)).json, { key: 'training-result.already-spam' }, 'the report trained it');

  // "Not spam" from the message log: learnt as ham and released.
  const ham = await hold('carol@a.example');
  const fromLog = await h.request('POST', `/api/feedback/messages/${ham.id}`, { as: carol, body: { as: 'ham' } });
  t.is(fromLog.status, 200, JSON.stringify(fromLog.json));
  t.deepEqual(delivered.map((d) => d.recipients), [['carol@a.example']]);
  t.like((await upload(carol, 'ham', ham.raw)).json, { key: 'training-result.already-ham' });
  // A message no longer stored says where to send it instead.
  const gone = await h.request('POST', `/api/feedback/messages/${ham.id}`, { as: carol, body: { as: 'spam' } });
  t.is(gone.status, 409);
  t.regex(gone.json.error.message, /spam@mx\.test\.example/);
  // Someone else's message is not found for her.
  const daves = await hold('dave@b.example');
  t.is((await h.request('POST', `/api/feedback/messages/${daves.id}`, { as: carol, body: { as: 'spam' } })).status, 404);

  // Allow the sender's whole domain from the quarantine.
  const other = await hold('carol@a.example');
  t.is((await h.request('POST', `/api/quarantine/${other.id}/allow-domain-release`, { as: carol, body: {} })).status, 200);
  t.true(lists.list({ direction: 'inbound', kind: 'sender-allow', scope: 'address', owner: 'carol@a.example' }).some((e) => e.value === 'shop.test'));

  const audit = (await h.request('GET', '/api/audit?limit=100', { as: root })).json.items as { actor: string; action: string; domains?: string[] }[];
  for (const action of ['POST /api/feedback/upload', 'POST /api/quarantine/:id/:action', 'POST /api/feedback/messages/:id']) {
    t.true(audit.some((r) => r.actor === 'carol@a.example' && r.action === action && r.domains?.includes('a.example')), action);
  }

  // The domain admin turns reports off for a.example: carol is refused, dave (b.example) is not.
  t.is((await h.request('PUT', '/api/policy/domains/a.example', { as: alice, body: { feedback: false } })).status, 200);
  const off = await upload(carol, 'spam', RAW(200));
  t.is(off.status, 403);
  t.regex(off.json.error.message, /turned off for a\.example/);
  const held = await hold('carol@a.example');
  t.is((await h.request('POST', `/api/quarantine/${held.id}/report-spam`, { as: carol, body: {} })).status, 403);
  t.is((await h.request('POST', `/api/feedback/messages/${held.id}`, { as: carol, body: { as: 'spam' } })).status, 403);
  t.truthy(await quarantine.get(held.id), 'nothing happened to the copy');
  t.is((await upload(dave, 'spam', RAW(201))).status, 200);
});

test('quarantine usage within the caller\'s scope', async (t) => {
  const { h, root, alice, carol, hold } = await setup(t);
  await h.server.context.config.replace({ ...h.server.context.config.current, policy: { ...h.server.context.config.current.policy, quota: { ...h.server.context.config.current.policy.quota, mailbox: { maxMessages: 4, maxBytes: 0 } } } });
  await hold('carol@a.example');
  await hold('dave@b.example');
  const mine = (await h.request('GET', '/api/quarantine-usage', { as: carol })).json;
  t.like(mine, { mailboxes: [{ name: 'carol@a.example', messages: 1, maxMessages: 4, percent: 25 }], domains: [] });
  const hers = (await h.request('GET', '/api/quarantine-usage', { as: alice })).json;
  t.deepEqual(hers.domains.map((d: { name: string }) => d.name), ['a.example']);
  t.deepEqual(hers.mailboxes.map((d: { name: string }) => d.name), ['carol@a.example']);
  const all = (await h.request('GET', '/api/quarantine-usage', { as: root })).json;
  t.deepEqual(all.domains.map((d: { name: string; messages: number }) => [d.name, d.messages]), [['a.example', 1], ['b.example', 1]]);
});

test('a domain\'s policies follow its rename and go when it is deleted', async (t) => {
  const { h, root } = await setup(t);
  t.is((await h.request('PUT', '/api/policy/domains/a.example', { as: root, body: { spamThreshold: 70 } })).status, 200);
  t.is((await h.request('PUT', '/api/policy/mailboxes/carol@a.example', { as: root, body: { spamThreshold: 95 } })).status, 200);
  const domain = (await h.request('GET', '/api/domains/a.example', { as: root })).json.domain;
  const renamed = await h.request('PUT', '/api/domains/a.example', { as: root, body: { ...domain, name: 'c.example' } });
  t.is(renamed.status, 200, JSON.stringify(renamed.json));
  const policy = h.server.context.config.current.policy;
  t.deepEqual([Object.keys(policy.domains), Object.keys(policy.mailboxes)], [['c.example'], ['carol@c.example']]);
  t.is((await h.request('DELETE', '/api/domains/c.example', { as: root })).status, 200);
  t.deepEqual([Object.keys(h.server.context.config.current.policy.domains), Object.keys(h.server.context.config.current.policy.mailboxes)], [[], []]);
});
