import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeInstance } from '../../../fixtures/routing-instances.js';
import { StickyBalancer } from './sticky.js';

const KEYS = Array.from({ length: 2000 }, (_, i) => `session-${i}`);

describe('StickyBalancer', () => {
  const insts = ['i-1', 'i-2', 'i-3', 'i-4'].map((id) => makeInstance('svc', id));

  it('sends the same key to the same instance, whatever the candidate order', () => {
    const s = new StickyBalancer();
    const reversed = [...insts].reverse();
    for (const key of KEYS.slice(0, 200)) {
      const first = s.pick(insts, { stickyKey: key })!.instanceId;
      assert.equal(s.pick(insts, { stickyKey: key })!.instanceId, first);
      assert.equal(s.pick(reversed, { stickyKey: key })!.instanceId, first);
    }
  });

  it('spreads keys roughly evenly', () => {
    const s = new StickyBalancer();
    const counts = new Map<string, number>();
    for (const key of KEYS) {
      const id = s.pick(insts, { stickyKey: key })!.instanceId;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const [id, n] of counts) assert.ok(n > 400 && n < 600, `${id}: ${n}`);
  });

  it('moves only the keys of a removed instance', () => {
    const s = new StickyBalancer();
    const before = new Map(KEYS.map((k) => [k, s.pick(insts, { stickyKey: k })!.instanceId]));
    const remaining = insts.filter((i) => i.instanceId !== 'i-2');
    let moved = 0;
    for (const k of KEYS) {
      const now = s.pick(remaining, { stickyKey: k })!.instanceId;
      if (before.get(k) === 'i-2') moved++;
      else assert.equal(now, before.get(k), `key ${k} moved although its instance stayed`);
    }
    assert.ok(moved > 0);
    // And back: when i-2 returns its keys return too.
    for (const k of KEYS) assert.equal(s.pick(insts, { stickyKey: k })!.instanceId, before.get(k));
  });

  it('falls back to round-robin without a key', () => {
    const s = new StickyBalancer();
    assert.deepEqual(
      Array.from({ length: 4 }, () => s.pick(insts, {})!.instanceId),
      ['i-1', 'i-2', 'i-3', 'i-4'],
    );
  });

  it('honours weight 0', () => {
    const s = new StickyBalancer();
    const weighted = [makeInstance('svc', 'a', { weight: 0 }), makeInstance('svc', 'b')];
    for (const k of KEYS.slice(0, 100)) assert.equal(s.pick(weighted, { stickyKey: k })!.instanceId, 'b');
  });
});
