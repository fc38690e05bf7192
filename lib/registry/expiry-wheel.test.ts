import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ExpiryWheel } from './expiry-wheel.js';

describe('ExpiryWheel', () => {
  test('takes a key at its due time exactly: not a millisecond early, not late', () => {
    const wheel = new ExpiryWheel<string>(1000);
    wheel.schedule('a', 10_500);
    assert.deepEqual(wheel.takeDue(10_000), []);
    assert.deepEqual(wheel.takeDue(10_499), [], 'same slot, not due yet');
    assert.deepEqual(wheel.takeDue(10_500), ['a']);
    assert.equal(wheel.size, 0);
    assert.deepEqual(wheel.takeDue(20_000), [], 'taken once');
  });

  test('a renewal moves the key to its new slot; the old time no longer takes it', () => {
    const wheel = new ExpiryWheel<string>(1000);
    wheel.schedule('a', 5_000);
    wheel.schedule('b', 5_000);
    wheel.schedule('a', 95_000);
    assert.equal(wheel.dueOf('a'), 95_000);
    assert.deepEqual(wheel.takeDue(6_000), ['b']);
    assert.deepEqual(wheel.takeDue(94_999), []);
    assert.deepEqual(wheel.takeDue(95_000), ['a']);
  });

  test("renewed many times before its first time comes: taken at the last renewal's time only", () => {
    const wheel = new ExpiryWheel<string>(1000);
    wheel.schedule('a', 90_000);
    for (let t = 30_000; t <= 300_000; t += 30_000) {
      wheel.schedule('a', t + 90_000);
      assert.deepEqual(wheel.takeDue(t), [], `not due at ${t}`);
    }
    assert.deepEqual(wheel.takeDue(389_999), []);
    assert.deepEqual(wheel.takeDue(390_000), ['a']);
  });

  test('moved earlier after a renewal: taken at the earlier time', () => {
    const wheel = new ExpiryWheel<string>(1000);
    wheel.schedule('a', 90_000);
    wheel.schedule('a', 120_000);
    wheel.schedule('a', 40_000);
    assert.deepEqual(wheel.takeDue(39_999), []);
    assert.deepEqual(wheel.takeDue(40_000), ['a']);
    assert.deepEqual(wheel.takeDue(200_000), []);
  });

  test('a renewal within the same slot keeps the exact new time', () => {
    const wheel = new ExpiryWheel<string>(1000);
    wheel.schedule('a', 5_100);
    wheel.schedule('a', 5_900);
    assert.deepEqual(wheel.takeDue(5_500), []);
    assert.deepEqual(wheel.takeDue(5_900), ['a']);
  });

  test('keys scheduled earlier than what was already swept are still taken', () => {
    const wheel = new ExpiryWheel<string>(1000);
    wheel.schedule('late', 50_000);
    assert.deepEqual(wheel.takeDue(20_000), []);
    wheel.schedule('past', 3_000);
    wheel.schedule('now', Number.NEGATIVE_INFINITY);
    assert.deepEqual(wheel.takeDue(20_000).sort(), ['now', 'past']);
    assert.deepEqual(wheel.takeDue(50_000), ['late']);
  });

  test('a jump far ahead takes everything due, earliest slot first, without walking every slot', () => {
    const wheel = new ExpiryWheel<number>(1);
    for (let i = 0; i < 100; i++) wheel.schedule(i, 1_000_000 - i * 1000);
    wheel.schedule(1000, 1e15);
    assert.deepEqual(
      wheel.takeDue(1e12),
      Array.from({ length: 100 }, (_, i) => 99 - i),
    );
    assert.equal(wheel.size, 1);
    assert.deepEqual(wheel.takeDue(1e15), [1000]);
  });

  test('cancel unschedules; cancelling twice or an unknown key is harmless', () => {
    const wheel = new ExpiryWheel<string>(1000);
    wheel.schedule('a', 1_000);
    assert.equal(wheel.cancel('a'), true);
    assert.equal(wheel.cancel('a'), false);
    assert.equal(wheel.cancel('zz'), false);
    assert.deepEqual(wheel.takeDue(10_000), []);
    wheel.schedule('b', 1);
    wheel.clear();
    assert.equal(wheel.size, 0);
    assert.deepEqual(wheel.takeDue(10_000), []);
  });

  test('refuses a slot width that is not positive', () => {
    assert.throws(() => new ExpiryWheel(0), RangeError);
  });
});
