/**
 * Registrations in flight count against the instance limits until their instance is cached,
 * and never twice.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PendingRegistrations } from './pending-registrations.js';

test('counts in-flight registrations until their instance is cached, per service and in all', () => {
  const pending = new PendingRegistrations();
  const cached = new Set<string>();
  const isCached = (s: string, id: string) => cached.has(`${s}/${id}`);
  const a1 = pending.add('a', 'a-1');
  const a2 = pending.add('a', 'a-2');
  pending.add('b', undefined); // the backend chooses the id: counted until it is done
  assert.equal(pending.count(isCached, 'a'), 2);
  assert.equal(pending.count(isCached), 3);
  cached.add('a/a-1'); // reported by the store's watch before its call returned
  assert.equal(pending.count(isCached, 'a'), 1, 'the cache counts it now, not the in-flight list');
  assert.equal(pending.count(isCached), 2);
  pending.remove('a', a1);
  pending.remove('a', a2);
  assert.equal(pending.count(isCached, 'a'), 0);
  assert.equal(pending.count(isCached), 1);
  pending.remove('a', a2); // twice, or for an unknown service: nothing happens
  pending.remove('zzz', 7);
  assert.equal(pending.count(isCached), 1);
});
