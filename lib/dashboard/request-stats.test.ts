import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeClock } from '../clock.js';
import { bucketOf, LATENCY_BOUNDS_MS, quantileOf } from './latency-histogram.js';
import { RequestStats } from './request-stats.js';

describe('latency histogram', () => {
  test('a duration falls in the bucket whose bound is the first at or above it', () => {
    for (const ms of [0, 0.1, 0.25, 0.3, 1, 3.7, 50, 999, 60_000]) {
      const b = bucketOf(ms);
      assert.ok(ms <= LATENCY_BOUNDS_MS[b]!, `${ms} ≤ bound ${LATENCY_BOUNDS_MS[b]}`);
      if (b > 0) assert.ok(ms > LATENCY_BOUNDS_MS[b - 1]!, `${ms} > previous bound`);
    }
    assert.equal(bucketOf(1e12), LATENCY_BOUNDS_MS.length - 1);
  });

  test('quantiles come from the counts, within one bucket', () => {
    const counts = new Array(LATENCY_BOUNDS_MS.length).fill(0);
    for (let i = 0; i < 98; i++) counts[bucketOf(2)]++;
    counts[bucketOf(100)] += 2;
    assert.equal(quantileOf(counts, 0.5), LATENCY_BOUNDS_MS[bucketOf(2)]);
    assert.equal(quantileOf(counts, 0.99), LATENCY_BOUNDS_MS[bucketOf(100)]);
    assert.equal(quantileOf(new Array(40).fill(0), 0.5), undefined);
  });
});

describe('RequestStats', () => {
  test('counts requests, 5xx and latency per whole second, oldest first, the running second left out', async () => {
    const clock = new FakeClock(1_000_000);
    const stats = new RequestStats({ clock, seconds: 5 });
    for (let i = 0; i < 4; i++) stats.record({ service: 'orders', route: '/o', status: 200, durationMs: 2 });
    stats.record({ service: 'orders', route: '/o', status: 502, durationMs: 40 });
    stats.record({ service: 'orders', route: '/o', status: 503 }); // refused: counted, not timed
    stats.record({ service: '-', route: '-', status: 404 });
    assert.deepEqual(stats.series('orders').rps, [0, 0, 0, 0], 'the running second is not shown');
    await clock.advance(1000);
    const s = stats.series('orders');
    assert.deepEqual(s.rps, [0, 0, 0, 6]);
    assert.deepEqual(s.errorRate.at(-1), 2 / 6);
    assert.equal(s.p50.at(-1), LATENCY_BOUNDS_MS[bucketOf(2)]);
    assert.equal(s.p99.at(-1), LATENCY_BOUNDS_MS[bucketOf(40)]);
    assert.deepEqual(s.p50.slice(0, 3), [null, null, null]);
    assert.deepEqual(stats.services(), ['orders'], "requests that matched no service ('-') are not counted");
  });

  test('old seconds roll out of the ring and a skipped second reads as zero', async () => {
    const clock = new FakeClock(1_000_000);
    const stats = new RequestStats({ clock, seconds: 3 });
    stats.record({ service: 'a', route: '/', status: 200, durationMs: 1 });
    await clock.advance(2000);
    stats.record({ service: 'a', route: '/', status: 200, durationMs: 1 });
    stats.record({ service: 'a', route: '/', status: 200, durationMs: 1 });
    await clock.advance(1000);
    assert.deepEqual(stats.series('a').rps, [0, 2]);
    await clock.advance(10_000);
    assert.deepEqual(stats.series('a').rps, [0, 0]);
  });

  test('memory is bounded: services beyond maxServices are not tracked; forget frees one', () => {
    const stats = new RequestStats({ clock: new FakeClock(), maxServices: 2 });
    for (const service of ['a', 'b', 'c']) stats.record({ service, route: '/', status: 200 });
    assert.deepEqual(stats.services(), ['a', 'b']);
    stats.forget('a');
    stats.record({ service: 'c', route: '/', status: 200 });
    assert.deepEqual(stats.services(), ['b', 'c']);
    assert.deepEqual(new RequestStats({ clock: new FakeClock() }).series('none').rps.length, 59);
  });
});
