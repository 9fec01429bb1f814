// The mail queue through the console API on the running daemon: real SMTP in, a downstream on
// loopback that defers (so the message waits in the queue), then the admin's operations and what
// they do — retry now delivers once the downstream accepts, bounce now sends the sender a real
// report, delete is recorded in the message log as deleted by whom, and each change is audited in
// words. A domain admin sees and acts on their domains' recipients only; mailbox users have no queue.
import test, { type ExecutionContext } from 'ava';
import { deliverAll } from '../../appliance/accept/message-filter.ts';
import { eventually, message, startTestAppliance } from '../helpers/appliance.ts';
import { sendMail } from '../helpers/smtp-client.ts';
import { twoDomainPeople, type Caller } from '../helpers/console-api.ts';
import { startSink, type Sink } from '../helpers/smtp-sink.ts';

const DEFER = '451 4.3.0 mailbox busy, try again later';

interface QueueItem { id: string; sender: string; state: string; lastError?: string; recipients: { address: string; attempts: number; lastError?: string }[] }

/** a.example's and b.example's servers each defer while their flag is set; retries wait an hour. */
async function setup(t: ExecutionContext) {
  const defer = { a: true, b: false };
  const sinkA = await startSink({ rcptReply: () => (defer.a ? DEFER : undefined) });
  const sinkB = await startSink({ rcptReply: () => (defer.b ? DEFER : undefined) });
  const app = await startTestAppliance({
    domains: [
      { name: 'a.example', routes: [{ host: '127.0.0.1', port: sinkA.port }] },
      { name: 'b.example', routes: [{ host: '127.0.0.1', port: sinkB.port }] },
    ],
    delivery: { retryMinutes: [60], connectTimeoutSeconds: 5 },
    filtering: { antivirus: { enabled: false } },
  }, { console: true, filter: deliverAll });
  t.teardown(async () => { await app.cleanup(); await sinkA.stop(); await sinkB.stop(); });
  const server = app.app.console!;
  const { login, request } = await twoDomainPeople(t, server);
  const list = async (as: Caller, query = '') => {
    const res = await request(as, 'GET', `/api/queue${query}`);
    t.is(res.status, 200, JSON.stringify(res.json));
    return res.json as { items: QueueItem[]; total: number };
  };
  const send = async (from: string, to: string[], subject = 'hello') => {
    t.true((await sendMail({ port: app.inbound, from, to, raw: message({ from, to: to.join(', '), subject }) })).ok);
  };
  const root = await login('root');
  /** Waits until the queue holds `count` messages that had a deferred try. */
  const deferred = (count: number) => eventually(async () => {
    const page = await list(root, '?state=deferred');
    return page.total === count ? page.items : undefined;
  });
  return { app, defer, sinkA, sinkB, login, request, list, send, root, deferred };
}

const sunkTo = (sink: Sink, address: string) => sink.messages.filter((m) => m.to.includes(address));

test('retry now delivers a deferred message once the downstream accepts', async (t) => {
  const s = await setup(t);
  await s.send('s@sender.test', ['x@a.example'], 'waiting');
  const [item] = await s.deferred(1);
  t.is(item.sender, 's@sender.test');
  t.is(item.state, 'deferred');
  t.true(item.lastError?.includes('4.3.0'), item.lastError);
  t.deepEqual(item.recipients.map((r) => [r.address, r.attempts]), [['x@a.example', 1]]);
  t.is((await s.list(s.root, '?domain=b.example')).total, 0, 'filtered by recipient domain');
  t.is((await s.list(s.root, '?domain=a.example')).total, 1);
  t.is((await s.list(s.root, '?state=new')).total, 0);

  s.defer.a = false;
  const res = await s.request(s.root, 'POST', `/api/queue/${item.id}/retry`, {});
  t.is(res.status, 200, JSON.stringify(res.json));
  t.deepEqual(res.json.affected, ['x@a.example']);
  await s.sinkA.waitFor(1);
  t.is(sunkTo(s.sinkA, 'x@a.example').length, 1);
  // The log record is written just after the recipient is recorded delivered (and leaves the list).
  await eventually(async () => ((await s.app.app.log.get(item.id))?.status === 'delivered' ? true : undefined));
  t.is((await s.list(s.root)).total, 0);
  t.is((await s.request(s.root, 'POST', `/api/queue/${item.id}/retry`, {})).status, 404, 'a delivered message is no longer queued');
});

test('bounce now reports to the sender; delete is logged as deleted by whom; both need confirming and are audited in words', async (t) => {
  const s = await setup(t);
  await s.send('s@b.example', ['y@a.example'], 'to bounce');
  await s.send('s@b.example', ['z@a.example'], 'to delete');
  const items = await s.deferred(2);
  const toBounce = items.find((i) => i.recipients[0].address === 'y@a.example')!;
  const toDelete = items.find((i) => i.recipients[0].address === 'z@a.example')!;

  const unconfirmed = await s.request(s.root, 'POST', `/api/queue/${toBounce.id}/bounce`, {});
  t.is(unconfirmed.status, 400);
  t.is(unconfirmed.json.problems[0].path, '/confirm');
  const deleteUnconfirmed = await s.request(s.root, 'POST', `/api/queue/${toDelete.id}/delete`, { confirm: false });
  t.is(deleteUnconfirmed.status, 400);
  t.is(deleteUnconfirmed.json.problems[0].path, '/confirm');

  // The sender's server defers too, so the bounce itself waits in the queue for the next check.
  s.defer.b = true;
  const bounced = await s.request(s.root, 'POST', `/api/queue/${toBounce.id}/bounce`, { confirm: true });
  t.is(bounced.status, 200, JSON.stringify(bounced.json));
  t.deepEqual(bounced.json.affected, ['y@a.example']);
  t.is((await s.app.app.log.get(toBounce.id))?.status, 'bounced');
  const report = await eventually(async () => (await s.list(s.root)).items.find((i) => i.sender === '' && i.state === 'deferred'));
  t.deepEqual(report.recipients.map((r) => r.address), ['s@b.example']);
  const refused = await s.request(s.root, 'POST', `/api/queue/${report.id}/bounce`, { confirm: true });
  t.is(refused.status, 409, 'a bounce has no sender to return to');
  t.regex(refused.json.error.message, /null sender/);

  s.defer.b = false;
  t.is((await s.request(s.root, 'POST', `/api/queue/${report.id}/retry`, {})).status, 200);
  const [dsn] = await s.sinkB.waitFor(1);
  t.is(dsn.from, '', 'from the null sender');
  t.deepEqual(dsn.to, ['s@b.example']);
  const text = dsn.raw.toString('utf8');
  t.true(text.includes('multipart/report'));
  t.true(text.includes('y@a.example'));
  t.true(text.includes('returned to the sender by the mail administrator (root)'));
  t.true(text.includes('Subject: to bounce'), 'the original headers are returned');

  const deleted = await s.request(s.root, 'POST', `/api/queue/${toDelete.id}/delete`, { confirm: true });
  t.is(deleted.status, 200, JSON.stringify(deleted.json));
  const log = await s.app.app.log.get(toDelete.id);
  t.is(log?.status, 'deleted');
  t.is(log?.recipients[0].status, 'deleted');
  t.is(log?.attempts.at(-1)?.reply, 'deleted from the queue by root');
  await eventually(async () => ((await s.list(s.root)).total === 0 ? true : undefined));
  t.is(sunkTo(s.sinkA, 'z@a.example').length, 0);

  const audit = await s.request(s.root, 'GET', '/api/audit?action=queue');
  const words = audit.json.items.map((r: { detail?: { words?: string } }) => r.detail?.words);
  t.true(words.includes(`deleted: message ${toDelete.id} for z@a.example`), JSON.stringify(words));
  t.true(words.includes(`returned to the sender: message ${toBounce.id} for y@a.example`));
  t.true(words.includes(`retried now: message ${report.id} for s@b.example`));
  const entry = audit.json.items.find((r: { detail?: { id?: string; action?: string } }) => r.detail?.id === toDelete.id);
  t.like(entry, { actor: 'root', action: 'POST /api/queue/:id/:action', domains: ['a.example'] });
});

test('a domain admin sees and acts on their domains\' recipients only; mailbox users have no queue', async (t) => {
  const s = await setup(t);
  s.defer.b = true;
  await s.send('s@sender.test', ['x@a.example', 'w@b.example'], 'two domains');
  const [item] = await s.deferred(1);
  const [alice, bob, carol] = [await s.login('alice'), await s.login('bob'), await s.login('carol@a.example')];

  t.deepEqual((await s.list(alice)).items.map((i) => i.recipients.map((r) => r.address)), [['x@a.example']]);
  t.deepEqual((await s.list(bob)).items.map((i) => i.recipients.map((r) => r.address)), [['w@b.example']]);
  t.is((await s.list(alice, '?domain=b.example')).total, 0, 'another domain\'s recipients stay hidden from a filter');
  t.is((await s.request(carol, 'GET', '/api/queue')).status, 403);
  t.is((await s.request(carol, 'POST', `/api/queue/${item.id}/retry`, {})).status, 403);
  t.is((await s.request(alice, 'POST', '/api/queue/no-such-id/retry', {})).status, 404);

  const res = await s.request(alice, 'POST', `/api/queue/${item.id}/delete`, { confirm: true });
  t.is(res.status, 200, JSON.stringify(res.json));
  t.deepEqual(res.json, { affected: ['x@a.example'], domains: ['a.example'] });
  t.is((await s.request(alice, 'POST', `/api/queue/${item.id}/retry`, {})).status, 404, 'nothing of alice\'s is left in it');
  const left = (await s.list(s.root)).items;
  t.deepEqual(left.map((i) => i.recipients.map((r) => r.address)), [['w@b.example']], 'b.example\'s copy still waits');
  const log = await s.app.app.log.get(item.id);
  t.deepEqual(log?.recipients.map((r) => [r.address, r.status]), [['x@a.example', 'deleted'], ['w@b.example', 'pending']]);
  const audit = await s.request(bob, 'GET', '/api/audit');
  t.false(audit.json.items.some((r: { detail?: { id?: string } }) => r.detail?.id === item.id), 'bob does not read alice\'s change to a.example');
});
