import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeInstance } from '../../../fixtures/routing-instances.js';
import { LeastConnectionsBalancer } from './least-connections.js';

describe('LeastConnectionsBalancer', () => {
  const insts = ['a', 'b', 'c'].map((id) => makeInstance('svc', id));

  it('picks the instance with the fewest connections', () => {
    const lc = new LeastConnectionsBalancer();
    const load = new Map([
      ['a', 5],
      ['b', 1],
      ['c', 3],
    ]);
    assert.equal(lc.pick(insts, { load: (id) => load.get(id)! })!.instanceId, 'b');
  });

  it('breaks ties round-robin so equal loads still spread', () => {
    const lc = new LeastConnectionsBalancer();
    const picks = Array.from({ length: 6 }, () => lc.pick(insts, { load: () => 0 })!.instanceId);
    assert.deepEqual(picks, ['a', 'b', 'c', 'a', 'b', 'c']);
    const tied = Array.from({ length: 4 }, () => lc.pick(insts, { load: (id) => (id === 'a' ? 9 : 2) })!.instanceId);
    assert.deepEqual([...new Set(tied)].sort(), ['b', 'c']);
  });

  it('balances live connections as they open', () => {
    const lc = new LeastConnectionsBalancer();
    const open = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const id = lc.pick(insts, { load: (x) => open.get(x) ?? 0 })!.instanceId;
      open.set(id, (open.get(id) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(open), { a: 10, b: 10, c: 10 });
  });

  it('is round-robin without a load function', () => {
    const lc = new LeastConnectionsBalancer();
    assert.deepEqual(
      Array.from({ length: 3 }, () => lc.pick(insts, {})!.instanceId),
      ['a', 'b', 'c'],
    );
  });
});
