import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACKOFF_DEFAULTS, backoffCeiling, backoffDelay, jitteredInterval, seededRandom } from './backoff.js';

describe('backoff', () => {
  it('defaults are frozen', () => {
    assert.ok(Object.isFrozen(BACKOFF_DEFAULTS));
    assert.deepEqual({ ...BACKOFF_DEFAULTS }, { initialMs: 500, maxMs: 30_000, factor: 2 });
  });

  it('ceilings grow exponentially and stop at maxMs, even after very many attempts', () => {
    const ceilings = Array.from({ length: 9 }, (_, i) => backoffCeiling(i, BACKOFF_DEFAULTS));
    assert.deepEqual(ceilings, [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    assert.equal(backoffCeiling(10_000, BACKOFF_DEFAULTS), 30_000);
    assert.equal(backoffCeiling(-1, BACKOFF_DEFAULTS), 500);
  });

  it('full jitter: each delay is in [0, ceiling) and follows the random source', () => {
    assert.equal(
      backoffDelay(3, BACKOFF_DEFAULTS, () => 0),
      0,
    );
    assert.equal(
      backoffDelay(3, BACKOFF_DEFAULTS, () => 0.5),
      2000,
    );
    assert.equal(
      backoffDelay(3, BACKOFF_DEFAULTS, () => 0.999_999),
      3999,
    );
    // A broken random source cannot push a delay outside the range.
    assert.equal(
      backoffDelay(3, BACKOFF_DEFAULTS, () => 7),
      3999,
    );
    assert.equal(
      backoffDelay(3, BACKOFF_DEFAULTS, () => Number.NaN),
      0,
    );
  });

  it('spreads the delays of many clients that failed at the same instant (no thundering herd)', () => {
    const clients = 1000;
    for (const attempt of [0, 4, 12]) {
      const ceiling = backoffCeiling(attempt, BACKOFF_DEFAULTS);
      // Each client has its own random source, as each process has its own Math.random.
      const delays = Array.from({ length: clients }, (_, i) =>
        backoffDelay(attempt, BACKOFF_DEFAULTS, seededRandom(i + 1)),
      );
      for (const d of delays) assert.ok(d >= 0 && d < ceiling, `${d} outside [0, ${ceiling})`);
      const distinct = new Set(delays).size;
      assert.ok(distinct > clients * 0.3, `only ${distinct} distinct delays among ${clients} clients`);
      // No tenth of the window gets more than 15 % of the fleet (uniform would be 10 %).
      const buckets = new Array<number>(10).fill(0);
      for (const d of delays) buckets[Math.floor((d / ceiling) * 10)]! += 1;
      assert.ok(Math.max(...buckets) <= clients * 0.15, `buckets ${buckets.join(',')}`);
      const mean = delays.reduce((a, b) => a + b, 0) / clients;
      assert.ok(Math.abs(mean - ceiling / 2) < ceiling * 0.05, `mean ${mean} for ceiling ${ceiling}`);
    }
  });

  it('jittered intervals stay within ±jitter and use the whole range', () => {
    const random = seededRandom(7);
    const values = Array.from({ length: 500 }, () => jitteredInterval(1000, 0.1, random));
    for (const v of values) assert.ok(v >= 900 && v <= 1100, `${v}`);
    assert.ok(Math.min(...values) < 920 && Math.max(...values) > 1080);
    assert.equal(
      jitteredInterval(1000, 0.1, () => 0),
      900,
    );
    assert.equal(
      jitteredInterval(1000, 0, () => 0.3),
      1000,
    );
  });

  it('seededRandom is reproducible and in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    for (let i = 0; i < 100; i++) {
      const x = a();
      assert.equal(x, b());
      assert.ok(x >= 0 && x < 1);
    }
  });
});
