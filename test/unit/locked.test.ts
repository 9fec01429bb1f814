// The Locked class: a sender or recipient an admin locked (the sender-lock / recipient-lock lists)
// has every message held in the quarantine with class Locked, whatever the rules say; an allow at
// the same level cannot free it, a block at the same level still wins, and only a virus comes first.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Value from 'typebox/value';
import { Filtering } from '../../appliance/config/schema.ts';
import { ListsStore, type ListEntryInput } from '../../appliance/lists/lists-store.ts';
import { decideLists, factsFrom } from '../../appliance/pipeline/lists.ts';
import type { Findings } from '../../appliance/pipeline/message-context.ts';
import { decide } from '../../appliance/pipeline/verdict.ts';
import { openStore } from '../../appliance/store/store.ts';

async function fresh(t: { teardown(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-locked-'));
  const store = await openStore(dir);
  t.teardown(async () => { await store.close(); await rm(dir, { recursive: true, force: true }); });
  return ListsStore.open(store);
}

const entry = (kind: ListEntryInput['kind'], value: string, scope: 'domain' | 'address' = 'domain'): ListEntryInput =>
  ({ direction: 'inbound', kind, scope, owner: scope === 'domain' ? 'example.com' : 'bob@example.com', value });
const cfg = Value.Default(Filtering, {}) as Filtering;
const clean: Findings = { lists: {}, timings: {}, spam: { score: 1, classHint: 'Not Spam', reasons: [] }, antivirus: { status: 'clean' } };

function verdict(lists: ListsStore, sender: string, recipient: string, findings: Findings = clean) {
  const d = decideLists(lists, factsFrom(sender, undefined, undefined), { direction: 'inbound', recipient, recipientDomain: 'example.com', priority: 'address-first' });
  return decide(findings, d, cfg, 'inbound');
}

test('a locked sender or recipient is held with class Locked, and the reason names the lock', async (t) => {
  const lists = await fresh(t);
  await lists.add(entry('sender-lock', 'ceo@partner.test'));
  await lists.add(entry('recipient-lock', 'leaver@example.com'));
  t.like(verdict(lists, 'ceo@partner.test', 'bob@example.com'), { mainClass: 'Locked', disposition: 'quarantine' });
  t.regex(verdict(lists, 'ceo@partner.test', 'bob@example.com').why.join(' '), /held: the sender is locked by the domain-level list of example\.com \(ceo@partner\.test\)/);
  t.like(verdict(lists, 'anyone@else.test', 'leaver@example.com'), { mainClass: 'Locked', disposition: 'quarantine' });
  t.like(verdict(lists, 'anyone@else.test', 'bob@example.com'), { mainClass: 'Not Spam', disposition: 'deliver' });
});

test('an allow at the same level does not free a lock; a block still wins; a virus comes first', async (t) => {
  const lists = await fresh(t);
  await lists.add(entry('sender-lock', 'partner.test'));
  await lists.add(entry('sender-allow', 'partner.test'));
  await lists.add(entry('recipient-allow', 'bob@example.com'));
  t.like(verdict(lists, 'a@partner.test', 'bob@example.com'), { mainClass: 'Locked', disposition: 'quarantine' });
  await lists.add(entry('sender-block', 'bad@partner.test'));
  t.like(verdict(lists, 'bad@partner.test', 'bob@example.com'), { mainClass: 'Blacklisted' });
  t.like(verdict(lists, 'a@partner.test', 'bob@example.com', { ...clean, antivirus: { status: 'infected', virus: 'Eicar' } }), { mainClass: 'Virus' });
});
