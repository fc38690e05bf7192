import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HeartbeatWindow } from './heartbeat-window.js';

describe('HeartbeatWindow', () => {
  test('0 ms: no window, nothing to wait for', () => {
    assert.equal(new HeartbeatWindow(0).wait(), undefined);
  });

  test('heartbeats waiting on one window go on together, in one turn; the next one opens a new window', async () => {
    const window = new HeartbeatWindow(5);
    const first = window.wait();
    const second = window.wait();
    assert.ok(first !== undefined);
    assert.equal(first, second, 'one shared window');
    const order: string[] = [];
    const a = first.then(() => {
      order.push('a');
      setImmediate(() => order.push('next turn'));
    });
    const b = second!.then(() => order.push('b'));
    await Promise.all([a, b]);
    assert.deepEqual(order, ['a', 'b'], 'both before the loop turns again');
    const third = window.wait();
    assert.notEqual(third, first, 'a closed window is not reused');
    await third;
  });

  test('refuses a negative or non-finite span', () => {
    assert.throws(() => new HeartbeatWindow(-1), TypeError);
    assert.throws(() => new HeartbeatWindow(Number.NaN), TypeError);
  });
});
