import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../clock.js';
import { describeRateLimitStore } from '../conformance/index.js';
import { MEMORY_STORE_DEFAULTS, MemoryStore } from './memory-store.js';

describeRateLimitStore('memory', () => new MemoryStore());

describe('MemoryStore', () => {
  it('keeps one bucket per key on the injected clock', async () => {
    const clock = new FakeClock(0);
    await using store = new MemoryStore({ clock });
    const cfg = { capacity: 3, refillPerSecond: 1 };
    const takes = Array.from({ length: 4 }, () => store.take('a', cfg, 1).allowed);
    assert.deepEqual(takes, [true, true, true, false]);
    assert.equal(store.take('b', cfg, 1).allowed, true);
    await clock.advance(1000);
    assert.equal(store.take('a', cfg, 1).allowed, true);
    assert.equal(store.take('a', cfg, 1).allowed, false);
  });

  it('is bounded: drops the least recently used bucket beyond maxKeys', async () => {
    const clock = new FakeClock(0);
    await using store = new MemoryStore({ clock, maxKeys: 2 });
    const cfg = { capacity: 1, refillPerSecond: 0.001 };
    store.take('a', cfg, 1);
    store.take('b', cfg, 1);
    store.take('a', cfg, 1); // touches a, so b is now the oldest
    store.take('c', cfg, 1);
    assert.equal(store.size, 2);
    assert.equal(store.take('a', cfg, 1).allowed, false, 'a was kept');
    assert.equal(store.take('b', cfg, 1).allowed, true, 'b was evicted, so it starts full');
  });

  it('sweeps buckets that have refilled completely and stops its timer on close', async () => {
    const clock = new FakeClock(0);
    const store = new MemoryStore({ clock, sweepIntervalMs: 1000 });
    assert.equal(clock.pending, 1);
    store.take('slow', { capacity: 10, refillPerSecond: 1 }, 1); // full again after 1 s
    store.take('slower', { capacity: 10, refillPerSecond: 0.1 }, 1); // full again after 10 s
    await clock.advance(1000);
    assert.equal(store.size, 1);
    await clock.advance(9000);
    assert.equal(store.size, 0);
    await store.close();
    assert.equal(clock.pending, 0);
  });

  it('has frozen defaults', () => {
    assert.ok(Object.isFrozen(MEMORY_STORE_DEFAULTS));
  });
});
