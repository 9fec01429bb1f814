// The console's view of the allow/block/condition lists over the real ListsStore. Searches return
// only entries whose owner lies in the caller's scope: a domain admin sees their domains' lists
// and their mailboxes' lists, a mailbox user only their own address-level lists; the appliance-wide
// lists are the appliance admin's. Single-entry
// writes are scope-checked by the API guard (the route names the owner as its target).
import { LIST_KINDS, type ListScope, type ListsStore } from '../../lists/lists-store.ts';
import type { ListEntry, ListsProvider, Scope } from './interfaces.ts';
import { addressInScope, domainInScope } from './scope.ts';

export function ownerInScope(scope: Scope, level: ListScope, owner: string): boolean {
  if (level === 'appliance') return 'all' in scope;
  return level === 'domain' ? domainInScope(scope, owner) : addressInScope(scope, owner);
}

export function listsProvider(lists: ListsStore): ListsProvider {
  return {
    kinds: LIST_KINDS,
    async search(q) {
      const all = lists.search({ text: q.text || undefined, direction: q.direction, kind: q.kind, scope: q.level, owner: q.owner || undefined })
        .filter((e) => ownerInScope(q.scope, e.scope, e.owner));
      return { items: all.slice(q.offset, q.offset + q.limit) as ListEntry[], total: all.length };
    },
    add: (entry) => lists.add(entry) as Promise<ListEntry>,
    remove: (id) => lists.remove(id),
    async get(id) {
      return lists.search({}).find((e) => e.id === id) as ListEntry | undefined;
    },
    exportText: (ref) => lists.export(ref),
    importText: (ref, text) => lists.import(ref, text),
  };
}
