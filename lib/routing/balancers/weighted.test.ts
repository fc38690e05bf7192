import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeInstance } from '../../../fixtures/routing-instances.js';
import type { ServiceInstance } from '../../registry/model.js';
import { WeightedBalancer } from './weighted.js';

function tally(insts: ServiceInstance[], picks: number): Record<string, number> {
  const w = new WeightedBalancer();
  const counts: Record<string, number> = {};
  for (const i of insts) counts[i.instanceId] = 0;
  for (let i = 0; i < picks; i++) counts[w.pick(insts, {})!.instanceId]!++;
  return counts;
}

describe('WeightedBalancer', () => {
  it('splits 95/5 by version however many instances each version has', () => {
    const w = new WeightedBalancer({ svc: { '1.4.2': 95, '2.0.0': 5 } });
    const insts = [
      makeInstance('svc', 's1', { version: '1.4.2' }),
      makeInstance('svc', 's2', { version: '1.4.2', weight: 2 }),
      makeInstance('svc', 's3', { version: '1.4.2' }),
      makeInstance('svc', 'c1', { version: '2.0.0' }),
      makeInstance('svc', 'old', { version: '1.0.0' }),
      makeInstance('svc', 'none'),
    ];
    const counts: Record<string, number> = {};
    for (let i = 0; i < 2000; i++) {
      const id = w.pick(insts, {})!.instanceId;
      counts[id] = (counts[id] ?? 0) + 1;
    }
    // 95 % to 1.4.2 split 1:2:1 by weight, 5 % to 2.0.0, nothing to unlisted or unversioned ones.
    assert.deepEqual(counts, { s1: 475, s2: 950, s3: 475, c1: 100 });
    // Services without an entry keep splitting by weight; with no listed version left, all share.
    assert.equal(new WeightedBalancer({ svc: { '9': 1 } }).pick([insts[4]!, insts[5]!], {})?.instanceId, 'old');
    const other = new WeightedBalancer({ svc: { '2.0.0': 1 } });
    const picks = new Set(
      Array.from({ length: 4 }, () => other.pick([makeInstance('x', 'a'), makeInstance('x', 'b')], {})!.instanceId),
    );
    assert.deepEqual([...picks].sort(), ['a', 'b']);
  });

  it('splits 90/10 exactly over 2,000 picks', () => {
    const counts = tally(
      [makeInstance('svc', 'stable', { weight: 90 }), makeInstance('svc', 'canary', { weight: 10 })],
      2000,
    );
    assert.ok(Math.abs(counts.stable! - 1800) <= 60, JSON.stringify(counts));
    // Smooth WRR is deterministic: the split is in fact exact.
    assert.deepEqual(counts, { stable: 1800, canary: 200 });
  });

  it('interleaves smoothly instead of sending bursts', () => {
    const w = new WeightedBalancer();
    const insts = [
      makeInstance('svc', 'a', { weight: 5 }),
      makeInstance('svc', 'b', { weight: 1 }),
      makeInstance('svc', 'c', { weight: 1 }),
    ];
    const seq = Array.from({ length: 7 }, () => w.pick(insts, {})!.instanceId).join('');
    assert.equal(seq, 'aabacaa');
  });

  it('never picks weight 0 unless every weight is 0', () => {
    assert.deepEqual(tally([makeInstance('svc', 'a', { weight: 0 }), makeInstance('svc', 'b', { weight: 3 })], 50), {
      a: 0,
      b: 50,
    });
    assert.deepEqual(tally([makeInstance('svc', 'a', { weight: 0 }), makeInstance('svc', 'b', { weight: 0 })], 50), {
      a: 25,
      b: 25,
    });
  });

  it('treats negative weights as 0 and NaN as 1', () => {
    assert.deepEqual(
      tally(
        [
          makeInstance('svc', 'a', { weight: -4 }),
          makeInstance('svc', 'b', { weight: Number.NaN }),
          makeInstance('svc', 'c', { weight: 1 }),
        ],
        10,
      ),
      { a: 0, b: 5, c: 5 },
    );
  });

  it('adapts when the candidate set changes', () => {
    const w = new WeightedBalancer();
    const a = makeInstance('svc', 'a', { weight: 2 });
    const b = makeInstance('svc', 'b', { weight: 1 });
    const c = makeInstance('svc', 'c', { weight: 1 });
    for (let i = 0; i < 7; i++) w.pick([a, b, c], {});
    const counts: Record<string, number> = { a: 0, c: 0 };
    for (let i = 0; i < 300; i++) counts[w.pick([a, c], {})!.instanceId]!++;
    assert.ok(Math.abs(counts.a! - 200) <= 2 && Math.abs(counts.c! - 100) <= 2, JSON.stringify(counts));
  });
});
