import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeInstance } from '../../../fixtures/routing-instances.js';
import { RoundRobinBalancer } from './round-robin.js';

describe('RoundRobinBalancer', () => {
  it('spreads exactly evenly over 3 instances, in turn', () => {
    const rr = new RoundRobinBalancer();
    const insts = ['a', 'b', 'c'].map((id) => makeInstance('svc', id));
    const counts = new Map<string, number>();
    const order: string[] = [];
    for (let i = 0; i < 300; i++) {
      const id = rr.pick(insts, {})!.instanceId;
      counts.set(id, (counts.get(id) ?? 0) + 1);
      if (i < 6) order.push(id);
    }
    assert.deepEqual(Object.fromEntries(counts), { a: 100, b: 100, c: 100 });
    assert.deepEqual(order, ['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('keeps one counter per service', () => {
    const rr = new RoundRobinBalancer();
    const x = ['1', '2'].map((id) => makeInstance('x', id));
    const y = ['1', '2'].map((id) => makeInstance('y', id));
    assert.equal(rr.pick(x, {})!.instanceId, '1');
    assert.equal(rr.pick(y, {})!.instanceId, '1');
    assert.equal(rr.pick(x, {})!.instanceId, '2');
    assert.equal(rr.pick(y, {})!.instanceId, '2');
  });

  it('handles zero and one candidate', () => {
    const rr = new RoundRobinBalancer();
    assert.equal(rr.pick([], {}), undefined);
    assert.equal(rr.pick([makeInstance('s', 'only')], {})!.instanceId, 'only');
  });
});
