// The dashboard's figures come from the running daemon: mail flow of the last 24 hours from the
// statistics counters (scoped per role), the queue, the daemon's services and the disks.
import test from 'ava';
import { deliverAll } from '../../appliance/accept/message-filter.ts';
import { message, startTestAppliance, eventually } from '../helpers/appliance.ts';
import { injectClient, PASSWORD } from '../helpers/console-api.ts';
import { sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';


test('the dashboard shows the real flow, queue, services and disks, scoped by role', async (t) => {
  const sink = await startSink();
  const a = await startTestAppliance({
    domains: [
      { name: 'a.example', routes: [{ host: '127.0.0.1', port: sink.port }] },
      { name: 'b.example', routes: [{ host: '127.0.0.1', port: sink.port }] },
    ],
    filtering: { antivirus: { enabled: false } },
  }, { console: true, filter: deliverAll });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  const server = a.app.console!;
  await server.context.setup.complete('test');
  await server.context.users.create({ username: 'root', role: 'admin', password: PASSWORD, language: 'en' });
  await server.context.users.create({ username: 'badmin', role: 'domain-admin', domains: ['b.example'], password: PASSWORD, language: 'en' });

  for (const to of ['x@a.example', 'y@a.example', 'z@b.example']) {
    t.true((await sendMail({ port: a.inbound, from: 's@sender.test', to: [to], raw: message() })).ok);
  }
  await sink.waitFor(3);
  await eventually(() => (a.app.queue.length === 0 ? true : undefined));

  const client = injectClient(server);
  const dashboard = async (username: string) => {
    const res = await client.get(await client.login(username), '/api/dashboard');
    t.is(res.status, 200, res.body);
    return res.json();
  };
  const admin = await dashboard('root');
  t.like(admin.flow, { received: 3, delivered: 3 });
  t.deepEqual(admin.queue, { messages: 0, deferred: 0 });
  t.like(admin.services.find((s: { name: string }) => s.name === 'smtp-inbound'), { state: 'running' });
  t.like(admin.services.find((s: { name: string }) => s.name === 'clamd'), { state: 'stopped' });
  t.true(admin.disks.length >= 1);
  const domainAdmin = await dashboard('badmin');
  t.like(domainAdmin.flow, { received: 1, delivered: 1 }, 'only b.example is counted for its admin');
  t.is(domainAdmin.queue, null, 'queue and services are the appliance admin\'s');
});
