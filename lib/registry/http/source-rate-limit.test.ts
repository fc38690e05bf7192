import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeClock } from '../../clock.js';
import { createBearerCheck } from '../../http/bearer-auth.js';
import { SOURCE_RATE_LIMIT_DEFAULTS, SourceRateLimiter } from './source-rate-limit.js';

describe('SourceRateLimiter', () => {
  test('a burst of capacity, then refill on the injected clock', async () => {
    const clock = new FakeClock();
    await using limiter = new SourceRateLimiter({ capacity: 3, refillPerSecond: 2, clock });
    assert.ok(Object.isFrozen(SOURCE_RATE_LIMIT_DEFAULTS));
    for (let i = 0; i < 3; i++) assert.equal(limiter.take('a').allowed, true);
    assert.deepEqual(limiter.take('a'), { allowed: false, retryAfterMs: 500 });
    assert.equal(limiter.take('b').allowed, true, 'sources are independent');
    await clock.advance(250);
    assert.deepEqual(limiter.take('a'), { allowed: false, retryAfterMs: 250 });
    await clock.advance(250);
    assert.equal(limiter.take('a').allowed, true);
    assert.equal(limiter.take('a').allowed, false);
  });

  test('memory stays bounded: full buckets, then the oldest, are forgotten', async () => {
    const clock = new FakeClock();
    await using limiter = new SourceRateLimiter({ capacity: 2, refillPerSecond: 1, clock, maxSources: 10 });
    for (let i = 0; i < 100; i++) limiter.take(`s${i}`);
    assert.ok(limiter.size <= 10, String(limiter.size));
  });

  test('rejects invalid options', () => {
    assert.throws(() => new SourceRateLimiter({ capacity: 0 }), { code: 'ERR_FG_INVALID_CONFIG' });
    assert.throws(() => new SourceRateLimiter({ refillPerSecond: -1 }), { code: 'ERR_FG_INVALID_CONFIG' });
  });
});

describe('createBearerCheck', () => {
  test('accepts only the exact token in a Bearer header', () => {
    const ok = createBearerCheck('abc.DEF-123');
    assert.equal(ok('Bearer abc.DEF-123'), true);
    assert.equal(ok('bearer abc.DEF-123'), true);
    assert.equal(ok('Bearer abc.DEF-12'), false);
    assert.equal(ok('Bearer abc.DEF-1234'), false);
    assert.equal(ok('Basic abc.DEF-123'), false);
    assert.equal(ok('abc.DEF-123'), false);
    assert.equal(ok('Bearer '), false);
    assert.equal(ok(undefined), false);
  });
});
