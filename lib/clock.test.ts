import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from './clock.js';

describe('FakeClock', () => {
  it('fires timeouts and intervals in time order, only when advanced', async () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`t@${clock.now()}`), 50);
    const iv = clock.setInterval(() => fired.push(`i@${clock.now()}`), 30);
    await clock.advance(29);
    assert.deepEqual(fired, []);
    await clock.advance(71);
    assert.deepEqual(fired, ['i@30', 't@50', 'i@60', 'i@90']);
    iv.cancel();
    assert.equal(clock.pending, 0);
    assert.equal(clock.now(), 100);
  });

  it('lets promise chains started by a timer settle before the next timer', async () => {
    const clock = new FakeClock(0);
    const order: string[] = [];
    clock.setTimeout(() => {
      void Promise.resolve().then(() => order.push('a-settled'));
    }, 10);
    clock.setTimeout(() => order.push('b'), 20);
    await clock.advance(20);
    assert.deepEqual(order, ['a-settled', 'b']);
  });
});
