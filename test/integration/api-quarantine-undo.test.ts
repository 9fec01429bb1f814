// Undoing a release through the console API on the running daemon: mail held by the pipeline (a
// condition-quarantine list entry) is released to a downstream on loopback that defers, so the
// released copy waits in the delivery queue; undo takes it back — the same quarantine id, reasons,
// recipients' states and file bytes, the copy gone from the queue, its message log record saying
// who took it back, the audit saying it in words. While an attempt is in flight, and once the copy
// was delivered, undo refuses and says why. A domain admin takes back only their domains' copies;
// a mailbox user cannot undo a release of other people's mail.
import test, { type ExecutionContext } from 'ava';
import { readFile } from 'node:fs/promises';
import { eventually, message, startTestAppliance } from '../helpers/appliance.ts';
import { sendMail } from '../helpers/smtp-client.ts';
import { twoDomainPeople } from '../helpers/console-api.ts';
import { startSink } from '../helpers/smtp-sink.ts';

const DEFER = '451 4.3.0 mailbox busy, try again later';

/** a.example's and b.example's servers defer while their flag is set; retries wait an hour. */
async function setup(t: ExecutionContext) {
  const defer = { a: true, b: true };
  /** While set, a.example's server keeps the client waiting at RCPT until it is resolved. */
  const hold: { until?: Promise<void>; started?: () => void } = {};
  const sinkA = await startSink({
    rcptReply: () => (defer.a ? DEFER : undefined),
    holdRcpt: () => { hold.started?.(); return hold.until; },
  });
  const sinkB = await startSink({ rcptReply: () => (defer.b ? DEFER : undefined) });
  const ta = await startTestAppliance({
    domains: [
      { name: 'a.example', routes: [{ host: '127.0.0.1', port: sinkA.port }] },
      { name: 'b.example', routes: [{ host: '127.0.0.1', port: sinkB.port }] },
    ],
    delivery: { retryMinutes: [60], connectTimeoutSeconds: 5 },
    filtering: { antivirus: { enabled: false }, quarantineResponse: 'accept' },
  }, { console: true });
  t.teardown(async () => { await ta.cleanup(); await sinkA.stop(); await sinkB.stop(); });
  const { app } = ta;
  for (const owner of ['a.example', 'b.example']) {
    await app.lists.add({ direction: 'inbound', kind: 'condition-quarantine', scope: 'domain', owner, field: 'subject', value: '[hold]', mode: 'partial' });
  }
  const server = app.console!;
  const { login, request } = await twoDomainPeople(t, server, { bobLanguage: 'ja' });
  /** Sends a message the pipeline holds, and returns its quarantine record. */
  const hold1 = async (to: string[], subject: string) => {
    const sent = await sendMail({ port: ta.inbound, from: 's@sender.test', to, raw: message({ from: 's@sender.test', to: to.join(', '), subject: `${subject} [hold]` }) });
    t.is(sent.code, 250, sent.response);
    const [record] = await app.quarantine.search({ text: subject });
    t.truthy(record, 'the pipeline held the message');
    return record;
  };
  /** The queue's messages, as the admin sees them. */
  const queued = async () => (await request(await root, 'GET', '/api/queue')).json as { items: { id: string; state: string; recipients: { address: string }[] }[]; total: number };
  const root = login('root');
  return { app, ta, defer, hold, sinkA, sinkB, login, request, hold1, queued, root: await root };
}

test('a released copy waiting in the queue comes back into quarantine as it was; after delivery, undo is refused', async (t) => {
  const s = await setup(t);
  const before = await s.hold1(['x@a.example'], 'Invoice');
  const bytes = await readFile(s.app.quarantine.blobPath(before));

  const released = await s.request(s.root, 'POST', `/api/quarantine/${before.id}/release`, {});
  t.is(released.status, 200, JSON.stringify(released.json));
  t.deepEqual(released.json.affected, ['x@a.example']);
  const [copy] = released.json.undo as string[];
  t.truthy(copy, 'the release names the queued copy it made');
  t.is(await s.app.quarantine.get(before.id), undefined, 'released: no longer held');
  // The downstream deferred: the copy waits for its next try in an hour.
  await eventually(async () => ((await s.queued()).items.find((i) => i.id === copy)?.state === 'deferred' ? true : undefined));

  const undone = await s.request(s.root, 'POST', '/api/quarantine-undo', { copies: [copy] });
  t.is(undone.status, 200, JSON.stringify(undone.json));
  t.deepEqual(undone.json.results, [{ copy, ok: true, id: before.id, affected: ['x@a.example'] }]);
  const after = await s.app.quarantine.get(before.id);
  t.deepEqual(after, before, 'the same record: id, reasons, recipients held');
  t.deepEqual(await readFile(s.app.quarantine.blobPath(after!)), bytes, 'the same file');
  t.deepEqual((await s.queued()).items.map((i) => i.id), [], 'the copy left the queue');
  const log = await s.app.log.get(copy);
  t.is(log?.status, 'quarantined');
  t.is(log?.attempts.at(-1)?.reply, 'release undone by root: back in quarantine');
  t.is(s.sinkA.messages.length, 0);
  const again = await s.request(s.root, 'POST', '/api/quarantine-undo', { copies: [copy] });
  t.is(again.status, 409, 'undone already: nothing to take back');

  // Released again; this time the downstream accepts: delivered, and undo says it is too late.
  s.defer.a = false;
  const second = await s.request(s.root, 'POST', `/api/quarantine/${before.id}/release`, {});
  const [copy2] = second.json.undo as string[];
  await s.sinkA.waitFor(1);
  await eventually(async () => ((await s.app.log.get(copy2))?.status === 'delivered' ? true : undefined));
  const late = await s.request(s.root, 'POST', '/api/quarantine-undo', { copies: [copy2] });
  t.is(late.status, 409, JSON.stringify(late.json));
  t.regex(late.json.error.message, /can no longer be undone: the copy has left the delivery queue/);
  t.is(await s.app.quarantine.get(before.id), undefined, 'still released');
  const unknown = await s.request(s.root, 'POST', '/api/quarantine-undo', { copies: ['no-such-copy'] });
  t.is(unknown.status, 404);

  const audit = await s.request(s.root, 'GET', '/api/audit?action=quarantine-undo');
  const words = audit.json.items.map((r: { detail?: { words?: string } }) => r.detail?.words);
  t.true(words.includes(`release undone: message ${before.id} back in quarantine for x@a.example`), JSON.stringify(words));
  t.like(audit.json.items.find((r: { detail?: { words?: string } }) => r.detail?.words?.startsWith('release undone')), { actor: 'root', domains: ['a.example'] });
});

test('undo is refused while the released copy is being delivered, and works once it waits again', async (t) => {
  const s = await setup(t);
  const held = await s.hold1(['y@a.example'], 'Report');
  let resume!: () => void;
  s.hold.until = new Promise<void>((r) => { resume = r; });
  const inFlight = new Promise<void>((r) => { s.hold.started = r; });
  const released = await s.request(s.root, 'POST', `/api/quarantine/${held.id}/release`, {});
  const [copy] = released.json.undo as string[];
  await inFlight;

  const busy = await s.request(s.root, 'POST', '/api/quarantine-undo', { copies: [copy] });
  t.is(busy.status, 409, JSON.stringify(busy.json));
  t.regex(busy.json.error.message, /being delivered at this moment/);
  t.is(await s.app.quarantine.get(held.id), undefined);

  s.hold.until = undefined;
  resume();
  await eventually(async () => ((await s.queued()).items.find((i) => i.id === copy)?.state === 'deferred' ? true : undefined));
  const undone = await s.request(s.root, 'POST', '/api/quarantine-undo', { copies: [copy] });
  t.is(undone.status, 200, JSON.stringify(undone.json));
  t.like(await s.app.quarantine.get(held.id), { id: held.id, recipients: [{ address: 'y@a.example', state: 'held' }] });
});

test('a domain admin takes back their domains\' copies only; a mailbox user cannot undo others\' release', async (t) => {
  const s = await setup(t);
  const held = await s.hold1(['x@a.example', 'w@b.example'], 'Shared');
  const released = await s.request(s.root, 'POST', `/api/quarantine/${held.id}/release`, {});
  t.deepEqual([...released.json.affected].sort(), ['w@b.example', 'x@a.example']);
  const copies = released.json.undo as string[];
  await eventually(async () => {
    const items = (await s.queued()).items.filter((i) => copies.includes(i.id));
    return items.length === copies.length && items.every((i) => i.state === 'deferred') ? true : undefined;
  });
  const [alice, bob, carol] = [await s.login('alice'), await s.login('bob'), await s.login('carol@a.example')];

  const refused = await s.request(carol, 'POST', '/api/quarantine-undo', { copies });
  t.is(copies.length, 1, 'both copies went into one queued copy (the same header edits)');
  t.is(refused.status, 404, JSON.stringify(refused.json));
  t.is(await s.app.quarantine.get(held.id), undefined, 'carol took nothing back');

  const byAlice = await s.request(alice, 'POST', '/api/quarantine-undo', { copies });
  const aliceOk = (byAlice.json.results as { ok: boolean; affected?: string[] }[]).filter((r) => r.ok);
  t.deepEqual(aliceOk.flatMap((r) => r.affected), ['x@a.example'], JSON.stringify(byAlice.json));
  const states = async () => (await s.app.quarantine.get(held.id))?.recipients.map((r) => [r.address, r.state]);
  t.deepEqual(await states(), [['x@a.example', 'held'], ['w@b.example', 'released']]);
  t.deepEqual((await s.queued()).items.flatMap((i) => i.recipients.map((r) => r.address)), ['w@b.example'], 'b.example\'s copy still waits');

  const byBob = await s.request(bob, 'POST', '/api/quarantine-undo', { copies });
  t.true((byBob.json.results as { ok: boolean }[]).some((r) => r.ok), JSON.stringify(byBob.json));
  t.deepEqual(await states(), [['x@a.example', 'held'], ['w@b.example', 'held']]);
  t.is((await s.queued()).total, 0);
  const audit = await s.request(alice, 'GET', '/api/audit?action=quarantine-undo');
  t.deepEqual(audit.json.items.map((r: { actor: string }) => r.actor), ['alice'], 'alice reads her own undo, not bob\'s');
});
