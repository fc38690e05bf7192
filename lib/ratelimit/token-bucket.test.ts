import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFleetgateError } from '../errors.js';
import { type BucketState, takeToken, toBucketConfig } from './token-bucket.js';

describe('takeToken', () => {
  it('admits exactly capacity, then refills at the configured rate', () => {
    const config = { capacity: 5, refillPerSecond: 2 };
    let state: BucketState | undefined;
    let now = 1_000_000;
    const admitted: boolean[] = [];
    for (let i = 0; i < 7; i++) {
      const r = takeToken(state, config, now);
      state = r.state;
      admitted.push(r.allowed);
    }
    assert.deepEqual(admitted, [true, true, true, true, true, false, false]);
    const denied = takeToken(state, config, now);
    assert.equal(denied.remaining, 0);
    assert.equal(denied.retryAfterMs, 500);
    assert.equal(denied.resetMs, 2500);
    now += 499;
    assert.equal(takeToken(state, config, now).allowed, false);
    now += 1;
    const r = takeToken(state, config, now);
    assert.equal(r.allowed, true);
    state = r.state;
    // 10 s later the bucket is full again, never fuller than capacity.
    now += 10_000;
    const full = takeToken(state, config, now);
    assert.equal(full.remaining, 4);
  });

  it('treats a missing state as a full bucket and never refills when time goes backwards', () => {
    const config = { capacity: 2, refillPerSecond: 1 };
    const first = takeToken(undefined, config, 5000);
    assert.deepEqual(first.state, { tokens: 1, updatedAt: 5000 });
    const back = takeToken(first.state, config, 4000);
    assert.equal(back.allowed, true);
    assert.deepEqual(back.state, { tokens: 0, updatedAt: 5000 });
  });

  it('a zero refill rate never admits again and says so', () => {
    const r = takeToken({ tokens: 0, updatedAt: 0 }, { capacity: 1, refillPerSecond: 0 }, 10_000);
    assert.equal(r.allowed, false);
    assert.equal(r.retryAfterMs, Number.POSITIVE_INFINITY);
  });
});

describe('toBucketConfig', () => {
  it('converts { limit, window } to capacity and rate', () => {
    assert.deepEqual(toBucketConfig({ limit: 60, window: '1m' }), { capacity: 60, refillPerSecond: 1 });
    assert.deepEqual(toBucketConfig({ limit: 10, window: 500 }), { capacity: 10, refillPerSecond: 20 });
  });

  it('rejects invalid limits with ERR_FG_INVALID_CONFIG', () => {
    for (const bad of [
      { capacity: 0, refillPerSecond: 1 },
      { capacity: 1, refillPerSecond: -1 },
      { limit: 5, window: 'soon' },
      { limit: Number.NaN, window: '1s' },
    ]) {
      assert.throws(
        () => toBucketConfig(bad),
        (e: unknown) => isFleetgateError(e, 'ERR_FG_INVALID_CONFIG'),
      );
    }
  });
});
