import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, it } from 'node:test';
import { FakeClock } from '../clock.js';
import { OUTLIER_DEFAULTS, OutlierDetector } from './outlier-detector.js';

describe('OutlierDetector', () => {
  it('has frozen defaults and rejects bad options', () => {
    assert.ok(Object.isFrozen(OUTLIER_DEFAULTS));
    assert.throws(() => new OutlierDetector({ consecutiveFailures: 0 }), /ERR_FG_INVALID_CONFIG|consecutiveFailures/);
    assert.throws(() => new OutlierDetector({ baseEjectionMs: 10, maxEjectionMs: 5 }));
  });

  it('ejects on the first refused connection and lets the instance back after the ejection time', async () => {
    const clock = new FakeClock();
    const o = new OutlierDetector({ clock, baseEjectionMs: 1000 });
    const seen: unknown[] = [];
    const listener = (m: unknown) => seen.push(m);
    subscribe('fleetgate:routing', listener);
    try {
      assert.equal(o.recordFailure('s', 'a', true), true);
    } finally {
      unsubscribe('fleetgate:routing', listener);
    }
    assert.equal(o.isEjected('s', 'a'), true);
    assert.equal(o.isEjected('s', 'b'), false);
    assert.equal(seen.length, 1);
    assert.equal(o.ejected().length, 1);
    await clock.advance(999);
    assert.equal(o.isEjected('s', 'a'), true);
    await clock.advance(1);
    assert.equal(o.isEjected('s', 'a'), false);
  });

  it('ejects after N consecutive failures; a success resets the streak', () => {
    const o = new OutlierDetector({ clock: new FakeClock(), consecutiveFailures: 3 });
    o.recordFailure('s', 'a', false);
    o.recordFailure('s', 'a', false);
    o.recordSuccess('s', 'a');
    o.recordFailure('s', 'a', false);
    o.recordFailure('s', 'a', false);
    assert.equal(o.isEjected('s', 'a'), false);
    assert.equal(o.recordFailure('s', 'a', false), true);
    assert.equal(o.isEjected('s', 'a'), true);
  });

  it('doubles the ejection time for a repeat offender, decays for good behaviour, forgets on leave', async () => {
    const clock = new FakeClock();
    const o = new OutlierDetector({ clock, baseEjectionMs: 1000, maxEjectionMs: 3000 });
    o.recordFailure('s', 'a', true);
    await clock.advance(1000);
    o.recordFailure('s', 'a', true); // second ejection: 2000 ms
    await clock.advance(1999);
    assert.equal(o.isEjected('s', 'a'), true);
    await clock.advance(1);
    o.recordFailure('s', 'a', true); // third: capped at 3000 ms
    await clock.advance(2999);
    assert.equal(o.isEjected('s', 'a'), true);
    await clock.advance(1);
    assert.equal(o.isEjected('s', 'a'), false);
    // Long good behaviour forgives every step: the next ejection is short again.
    await clock.advance(10_000);
    o.recordSuccess('s', 'a');
    o.recordFailure('s', 'a', true);
    await clock.advance(1000);
    assert.equal(o.isEjected('s', 'a'), false);
    o.forget('s', 'a');
    assert.equal(o.ejected().length, 0);
  });
});
