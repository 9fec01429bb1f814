// The console's settings forms through the API: every group round-trips (what is saved is what
// is read back, and the audit says in words what changed), problems come back at the field's own
// pointer, nothing outside a group can be changed; the host name must be a fully qualified name
// and NTP servers host names or addresses, in the wizard and in System alike; the DNS records
// page looks each record up through the configured resolver (a loopback DNS server here).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { SETTINGS_GROUPS, valueAt } from '../../appliance/config/settings-groups.ts';
import { makeConsole, withPeople } from '../helpers/console-api.ts';
import { startDnsServer } from '../helpers/dns-server.ts';

test('each settings group saves and reads back its settings; the audit names each change', async (t) => {
  const { h, root } = await withPeople(t);
  const changes: Record<string, Record<string, unknown>> = {
    spam: { '/filtering/spamThreshold': 85, '/filtering/greylisting/enabled': true, '/filtering/dnsLists/zones': [{ zone: 'bl.example.org', weight: 40, answers: ['127.0.0.2'] }] },
    rules: { '/filtering/rules': [{ class: 'Spam', action: 'tag', tag: 'MEIWAKU!!' }], '/filtering/outboundRules': [] },
    authentication: { '/filtering/spf/ngResults': ['fail', 'softfail'], '/filtering/dmarc/honourReject': false, '/console/lockoutAttempts': 7 },
    antivirus: { '/filtering/antivirus/onFailure': 'pass', '/filtering/oversize/maxBytes': 10_000_000 },
    lists: { '/filtering/listPriority/default': 'domain-first' },
    quarantine: { '/filtering/quarantine/retentionDays': 14, '/policy/quota/whenFull': 'tempfail', '/log/relayDenied': true },
    network: { '/hostname': 'mx2.test.example', '/relay/resolver': ['192.0.2.53'], '/relay/networks': ['10.0.0.0/8'], '/delivery/retryMinutes': [2, 10] },
    time: { '/time/timezone': 'Europe/Berlin', '/time/ntpServers': ['ntp.nict.jp', '192.0.2.123', '2001:db8::123'] },
    monitoring: {
      '/system/snmp/communities': [{ name: 'watch', source: '192.0.2.0/24' }],
      '/system/snmp/users': [{ name: 'nms', authPassword: 'auth secret 1', privPassword: 'priv secret 1' }],
      '/system/snmp/trapSinks': [{ host: 'nms.example', port: 162, community: 'traps' }],
      '/system/syslog/remote': [{ host: 'logs.example', port: 6514, protocol: 'tcp' }],
      '/system/disk/warnPercent': 70,
    },
  };
  t.deepEqual(Object.keys(changes).sort(), Object.keys(SETTINGS_GROUPS).sort(), 'every group is tried');
  for (const [group, values] of Object.entries(changes)) {
    const res = await h.request('PUT', `/api/system/settings/${group}`, { as: root, body: { values } });
    t.is(res.status, 200, `${group}: ${JSON.stringify(res.json)}`);
    for (const [pointer, value] of Object.entries(values)) {
      t.deepEqual(res.json.values[pointer], value, `${group} answers ${pointer}`);
      t.deepEqual(valueAt(h.server.context.config.current, pointer), value, `${group} stored ${pointer}`);
    }
  }
  // What the forms read back: the same values, through the configuration route.
  const read = (await h.request('GET', '/api/system/config', { as: root })).json.config;
  t.is(read.filtering.spamThreshold, 85);
  t.deepEqual(read.system.syslog.remote, changes.monitoring['/system/syslog/remote']);
  // null unsets an optional setting: outbound mail follows the inbound rules again.
  await h.request('PUT', '/api/system/settings/rules', { as: root, body: { values: { '/filtering/outboundRules': null } } });
  t.false('outboundRules' in h.server.context.config.current.filtering);

  const audit = (await h.request('GET', '/api/audit?limit=50', { as: root })).json.items as { action: string; detail: { group?: string; changes?: { setting: string; words: string }[] } }[];
  const spam = audit.find((r) => r.detail.group === 'Spam');
  t.truthy(spam);
  t.true(spam!.detail.changes!.some((c) => c.words === 'Spam threshold (%): 90 → 85'), JSON.stringify(spam!.detail));
  const monitoring = JSON.stringify(audit.find((r) => r.detail.group === 'Monitoring'));
  t.false(monitoring.includes('auth secret 1'), 'SNMPv3 passphrases stay out of the audit log');
  t.regex(monitoring, /SNMPv3 users \(read-only\): 0 entries \(secrets not logged\) → 1 entries/);
});

test('settings: problems at their field, nothing saved; only the group\'s own settings; admin only', async (t) => {
  const { h, root, alice } = await withPeople(t);
  const before = structuredClone(h.server.context.config.current);
  const bad = await h.request('PUT', '/api/system/settings/spam', { as: root, body: { values: { '/filtering/spamThreshold': 150, '/filtering/dnsLists/zones': [{ zone: 'not a zone', weight: 5 }] } } });
  t.is(bad.status, 400);
  t.deepEqual(bad.json.problems.map((p: { path: string }) => p.path).sort(), ['/filtering/dnsLists/zones/0/zone', '/filtering/spamThreshold']);
  const outside = await h.request('PUT', '/api/system/settings/spam', { as: root, body: { values: { '/hostname': 'mx9.test.example' } } });
  t.is(outside.status, 400);
  t.is(outside.json.problems[0].path, '/hostname');
  t.is((await h.request('PUT', '/api/system/settings/nothing', { as: root, body: { values: {} } })).status, 404);
  t.is((await h.request('PUT', '/api/system/settings/spam', { as: alice, body: { values: { '/filtering/spamThreshold': 50 } } })).status, 403);
  t.deepEqual(h.server.context.config.current, before, 'nothing was saved');
});

test('System: a host name that is not a FQDN and an NTP server that is not a host are refused at their fields', async (t) => {
  const { h, root } = await withPeople(t);
  await h.request('PATCH', '/api/me', { as: root, body: { language: 'ja' } });
  const host = await h.request('PUT', '/api/system/settings/network', { as: root, body: { values: { '/hostname': '-bad host name-' } } });
  t.is(host.status, 400);
  t.deepEqual(host.json.problems.map((p: { path: string; key: string }) => [p.path, p.key]), [['/hostname', 'problem.not-a-dns-name']]);
  t.regex(host.json.problems[0].message, /完全な DNS 名ではありません/);
  for (const single of ['mailmoat', 'mx.example.', 'mx_1.example.com']) {
    t.is((await h.request('PUT', '/api/system/settings/network', { as: root, body: { values: { '/hostname': single } } })).status, 400, single);
  }
  const ntp = await h.request('PUT', '/api/system/settings/time', { as: root, body: { values: { '/time/ntpServers': ['ntp.nict.jp', 'bad host!!', '2001:db8::zz:1'] } } });
  t.is(ntp.status, 400);
  t.deepEqual(ntp.json.problems.map((p: { path: string }) => p.path).sort(), ['/time/ntpServers/1', '/time/ntpServers/2']);
  // The shape-only IPv6 check is completed by parsing, once the rest is valid.
  const v6 = await h.request('PUT', '/api/system/settings/time', { as: root, body: { values: { '/time/ntpServers': ['2001:db8::1::2'] } } });
  t.deepEqual(v6.json.problems.map((p: { path: string }) => p.path), ['/time/ntpServers/0']);
  // The older section route applies the same rules.
  const section = await h.request('PUT', '/api/system/config/time', { as: root, body: { value: { timezone: 'Asia/Tokyo', ntpServers: ['bad host!!'] } } });
  t.is(section.status, 400);
  t.is(h.server.context.config.current.hostname, 'mx.test.example');
  t.deepEqual(h.server.context.config.current.time.ntpServers, []);
});

test('wizard: a bad host name and NTP server are refused at their fields, and never published', async (t) => {
  const h = await makeConsole(t, { setupDone: false });
  await h.server.context.setup.ensureCode();
  const code = (await readFile(path.join(h.dataDir, 'setup-code'), 'utf8')).trim();
  const claim = await h.server.app.inject({ method: 'POST', url: '/api/setup/claim', payload: { code } });
  const wiz = { cookie: `mm_session=${claim.cookies[0].value}`, csrf: claim.json().csrfToken };
  const body = {
    language: 'en', admin: { username: 'admin', password: 'a very long secret' }, hostname: '-bad host name-', timezone: 'Asia/Tokyo',
    ntpServers: ['bad host!!'], domain: { name: 'customer.example', host: '127.0.0.1', port: 25 }, tls: { mode: 'generated' }, contact: 'postmaster@customer.example',
  };
  for (const step of ['preview', 'finish']) {
    const res = await h.request('POST', `/api/setup/${step}`, { as: wiz, body });
    t.is(res.status, 400, step);
    t.deepEqual(res.json.problems.map((p: { path: string; message: string }) => [p.path, p.message]), [
      ['/hostname', 'is not a full DNS name such as mx.example.com (letters, digits and hyphens between dots)'],
      ['/ntpServers', 'is not a host name or an IP address'],
    ], step);
    t.false(JSON.stringify(res.json).includes('v=spf1'), 'no DNS records for a bad name');
  }
  t.true(h.server.context.setup.inSetup);
  const good = await h.request('POST', '/api/setup/preview', { as: wiz, body: { ...body, hostname: 'mx.customer.example', ntpServers: ['ntp.nict.jp'] } });
  t.is(good.status, 200);
});

test('DNS records page: each record looked up through the configured resolver; private addresses named', async (t) => {
  const { h, root, alice } = await withPeople(t);
  const dns = await startDnsServer({
    'a.example': { MX: [{ exchange: 'mx.test.example', priority: 10 }], TXT: ['google-site-verification=x', 'v=spf1 include:mx.test.example ~all'] },
    'mx.test.example': { A: ['203.0.113.25'], TXT: ['v=spf1 ip4:203.0.113.25 -all'] },
    'b.example': { MX: [{ exchange: 'mail.elsewhere.example', priority: 10 }], TXT: ['v=spf1 -all'] },
  });
  let open = true;
  t.teardown(() => (open ? dns.close() : undefined));
  await h.request('PUT', '/api/system/settings/network', { as: root, body: { values: { '/relay/resolver': [dns.address] } } });
  h.server.context.addresses = () => ['203.0.113.25', '2001:db8::25'];
  const res = await h.request('GET', '/api/dns-records', { as: root });
  t.is(res.status, 200, JSON.stringify(res.json));
  t.deepEqual(res.json.privateAddresses, []);
  const state = (domain: string) => Object.fromEntries((res.json.domains as { name: string; records: { note: string; type: string; state: string; found?: string[] }[] }[])
    .find((d) => d.name === domain)!.records.map((r) => [`${r.note}/${r.type}`, r.state === 'different' ? `different: ${r.found!.join(' | ')}` : r.state]));
  t.deepEqual(state('a.example'), { 'mx/MX': 'ok', 'address/A': 'ok', 'address/AAAA': 'missing', 'spf-host/TXT': 'different: v=spf1 ip4:203.0.113.25 -all', 'spf-include/TXT': 'ok' });
  // The SPF of the host name must allow every address the box sends from, the IPv6 one too.
  t.deepEqual(state('b.example'), { 'mx/MX': 'different: 10 mail.elsewhere.example', 'address/A': 'ok', 'address/AAAA': 'missing', 'spf-host/TXT': 'different: v=spf1 ip4:203.0.113.25 -all', 'spf-include/TXT': 'different: v=spf1 -all' });
  t.true(dns.queries.some((q) => q.name.toLowerCase() === 'a.example' && q.type === 'MX'), 'asked the configured resolver');

  // A box behind NAT: its own address is private, and says so.
  h.server.context.addresses = () => ['192.168.1.25'];
  const natted = await h.request('GET', '/api/dns-records', { as: root });
  t.deepEqual(natted.json.privateAddresses, ['192.168.1.25']);
  // A domain admin sees their own domains only.
  const own = await h.request('GET', '/api/dns-records', { as: alice });
  t.deepEqual(own.json.domains.map((d: { name: string }) => d.name), ['a.example']);
  // A resolver that does not answer: unknown, not missing.
  await dns.close();
  open = false;
  const silent = await h.request('GET', '/api/dns-records', { as: root });
  t.true(silent.json.domains[0].records.every((r: { state: string }) => r.state === 'unknown'));
});

test('services: a restart is asked of root through the request file, only for services on the list', async (t) => {
  const { h, root, alice } = await withPeople(t);
  const res = await h.request('POST', '/api/system/services/snmpd/restart', { as: root });
  t.is(res.status, 200);
  t.is(await readFile(path.join(h.dataDir, 'system', 'restart-request'), 'utf8'), 'snmpd\n');
  t.is((await h.request('POST', '/api/system/services/sshd/restart', { as: root })).status, 404);
  t.is((await h.request('POST', '/api/system/services/snmpd/restart', { as: alice })).status, 403);
  const audit = JSON.stringify((await h.request('GET', '/api/audit?limit=5', { as: root })).json.items);
  t.regex(audit, /asked to restart snmpd/);
});
