import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../clock.js';
import { type AttemptState, isIdempotent, mayRetry, RetryBudget } from './retry-policy.js';

const state = (over: Partial<AttemptState>): AttemptState => ({
  method: 'GET',
  bodyMode: 'none',
  wroteToUpstream: true,
  responseStarted: false,
  retries: 0,
  ...over,
});

describe('mayRetry (nginx semantics)', () => {
  it('retries anything when nothing reached the instance', () => {
    assert.equal(mayRetry(state({ method: 'POST', bodyMode: 'stream', wroteToUpstream: false }), 'connect', 2), true);
    assert.equal(mayRetry(state({ method: 'POST', bodyMode: 'buffered' }), 'connect-timeout', 2), true);
  });

  it('retries idempotent requests whose body is absent or buffered', () => {
    assert.equal(mayRetry(state({ method: 'GET' }), 'reset', 2), true);
    assert.equal(mayRetry(state({ method: 'PUT', bodyMode: 'buffered' }), 'timeout', 2), true);
    assert.equal(mayRetry(state({ method: 'PUT', bodyMode: 'stream' }), 'reset', 2), false);
  });

  it('never retries a POST that may have reached the instance', () => {
    assert.equal(mayRetry(state({ method: 'POST', bodyMode: 'buffered' }), 'reset', 2), false);
    assert.equal(mayRetry(state({ method: 'POST', bodyMode: 'stream' }), 'timeout', 2), false);
    assert.equal(mayRetry(state({ method: 'PATCH' }), 'reset', 2), false);
  });

  it('never retries once the response started, after the limit, or for client aborts', () => {
    assert.equal(mayRetry(state({ responseStarted: true }), 'reset', 2), false);
    assert.equal(mayRetry(state({ retries: 2 }), 'connect', 2), false);
    assert.equal(mayRetry(state({}), 'aborted', 2), false);
    assert.equal(mayRetry(state({}), 'client', 2), false);
    assert.equal(mayRetry(state({}), 'connect', 0), false);
  });

  it('knows the idempotent methods', () => {
    for (const m of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']) assert.ok(isIdempotent(m), m);
    for (const m of ['POST', 'PATCH', 'CONNECT']) assert.ok(!isIdempotent(m), m);
  });
});

describe('RetryBudget', () => {
  it('allows the floor per second, then a ratio of requests', () => {
    const clock = new FakeClock();
    const budget = new RetryBudget({ clock, budgetRatio: 0.2, minRetriesPerSecond: 1, budgetWindowMs: 10_000 });
    // The floor: 1/s over a 10 s window = 10 retries with no traffic at all.
    let granted = 0;
    for (let i = 0; i < 50; i++) if (budget.tryAcquire()) granted++;
    assert.equal(granted, 10);
    for (let i = 0; i < 100; i++) budget.recordRequest();
    // 20% of 100 = 20 in total; 10 already spent.
    granted = 0;
    for (let i = 0; i < 50; i++) if (budget.tryAcquire()) granted++;
    assert.equal(granted, 10);
    assert.deepEqual(budget.snapshot(), { requests: 100, retries: 20 });
  });

  it('forgets what slid out of the window', async () => {
    const clock = new FakeClock();
    const budget = new RetryBudget({ clock, budgetRatio: 0, minRetriesPerSecond: 1, budgetWindowMs: 2000 });
    assert.ok(budget.tryAcquire());
    assert.ok(budget.tryAcquire());
    assert.equal(budget.tryAcquire(), false);
    await clock.advance(1000);
    assert.equal(budget.tryAcquire(), false);
    await clock.advance(1000);
    assert.ok(budget.tryAcquire());
    await clock.advance(60_000);
    assert.deepEqual(budget.snapshot(), { requests: 0, retries: 0 });
  });
});
