import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { CircuitState } from 'cockatiel';
import { waitFor } from '../test-support/http-test-kit.js';
import { BREAKER_DEFAULTS, CircuitBreakers } from './circuit-breakers.js';

describe('CircuitBreakers (cockatiel)', () => {
  it('has frozen defaults and validates', () => {
    assert.ok(Object.isFrozen(BREAKER_DEFAULTS));
    assert.throws(() => new CircuitBreakers({ consecutiveFailures: 0 }));
  });

  it('opens after N consecutive failures, excluding the instance', async () => {
    const b = new CircuitBreakers({ consecutiveFailures: 3, halfOpenAfterMs: 60_000 });
    b.recordFailure('s', 'a');
    b.recordFailure('s', 'a');
    b.recordSuccess('s', 'a');
    b.recordFailure('s', 'a');
    b.recordFailure('s', 'a');
    await waitFor(() => b.state('s', 'a') === CircuitState.Closed);
    assert.equal(b.isOpen('s', 'a'), false);
    b.recordFailure('s', 'a');
    await waitFor(() => b.isOpen('s', 'a'), 1000, 'circuit open');
    assert.equal(b.state('s', 'a'), CircuitState.Open);
    assert.equal(b.isOpen('s', 'other'), false);
  });

  // cockatiel reads Date.now() itself: on a mocked Date the half-open delay passes when the test says,
  // not while a loaded machine delays the first poll past it.
  it('lets exactly one trial through after halfOpenAfter; its success closes the circuit', async (t) => {
    mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    t.after(() => mock.timers.reset());
    const b = new CircuitBreakers({ consecutiveFailures: 1, halfOpenAfterMs: 30 });
    b.recordFailure('s', 'a');
    await waitFor(() => b.isOpen('s', 'a'), 1000, 'open');
    mock.timers.tick(30);
    assert.equal(b.isOpen('s', 'a'), false, 'due for a trial');
    b.begin('s', 'a');
    assert.equal(b.state('s', 'a'), CircuitState.HalfOpen);
    assert.equal(b.isOpen('s', 'a'), true, 'others keep away during the trial');
    b.recordSuccess('s', 'a');
    await waitFor(() => b.state('s', 'a') === CircuitState.Closed, 1000, 'closed');
    assert.equal(b.isOpen('s', 'a'), false);
  });

  it('re-opens when the trial fails or is abandoned', async (t) => {
    mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    t.after(() => mock.timers.reset());
    const b = new CircuitBreakers({ consecutiveFailures: 1, halfOpenAfterMs: 30 });
    b.recordFailure('s', 'a');
    await waitFor(() => b.isOpen('s', 'a'), 1000, 'open');
    mock.timers.tick(30);
    assert.equal(b.isOpen('s', 'a'), false, 'due');
    b.begin('s', 'a');
    b.recordFailure('s', 'a');
    await waitFor(() => b.state('s', 'a') === CircuitState.Open, 1000, 're-opened');
    assert.equal(b.isOpen('s', 'a'), true);
    mock.timers.tick(30);
    assert.equal(b.isOpen('s', 'a'), false, 'due again');
    b.begin('s', 'a');
    b.abandon('s', 'a');
    await waitFor(() => b.state('s', 'a') === CircuitState.Open, 1000, 're-opened after abandon');
    b.forget('s', 'a');
    assert.equal(b.isOpen('s', 'a'), false);
  });

  it('keeps the default 5 s half-open delay to the millisecond, on a mocked Date', async (t) => {
    // cockatiel reads Date.now() itself, so its clock is the mocked Date, not fleetgate's Clock.
    mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    t.after(() => mock.timers.reset());
    const b = new CircuitBreakers({ consecutiveFailures: 1 });
    b.recordFailure('s', 'a');
    await waitFor(() => b.isOpen('s', 'a'), 1000, 'open');
    mock.timers.tick(BREAKER_DEFAULTS.halfOpenAfterMs - 1);
    assert.equal(b.isOpen('s', 'a'), true, '1 ms early');
    mock.timers.tick(1);
    assert.equal(b.isOpen('s', 'a'), false, 'due');
    b.begin('s', 'a');
    assert.equal(b.state('s', 'a'), CircuitState.HalfOpen, 'cockatiel agrees the delay is over');
    b.recordSuccess('s', 'a');
    await waitFor(() => b.state('s', 'a') === CircuitState.Closed, 1000, 'closed');
  });
});
