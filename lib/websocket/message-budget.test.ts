import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageBudget } from './message-budget.js';

describe('MessageBudget', () => {
  it('admits a burst, refuses beyond it, and refills over time', () => {
    const b = new MessageBudget(10, 5, 0, 3);
    assert.equal(b.take(5, 0), 0);
    assert.equal(b.take(1, 0), 1);
    assert.equal(b.strikes, 1);
    assert.equal(b.take(1, 100), 0, 'one token back after 100 ms at 10/s');
    assert.equal(b.strikes, 0, 'an admitted message ends the streak');
    assert.equal(b.take(4, 200), 3);
    assert.equal(b.exhausted, true);
  });

  it('counts refused messages of one batch and never exceeds its capacity', () => {
    const b = new MessageBudget(1, 2, 0, 10);
    assert.equal(b.take(2, 0), 0);
    assert.equal(b.take(1, 60_000), 0);
    assert.equal(b.take(3, 60_000), 2, 'the bucket held at most 2');
  });

  it('is off at 0 messages per second', () => {
    const b = new MessageBudget(0, 0, 0);
    assert.equal(b.enabled, false);
    assert.equal(b.take(1_000_000, 0), 0);
    assert.equal(b.exhausted, false);
  });
});
