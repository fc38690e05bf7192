import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mergeSeries } from './series-merge.js';

describe('mergeSeries', () => {
  test('adds request rates, weights the error rate by requests, and keeps the slowest p50/p99', () => {
    const merged = mergeSeries([
      [{ name: 'orders', series: { rps: [0, 10], errorRate: [0, 0.5], p50: [null, 2], p99: [null, 8] } }],
      [{ name: 'orders', series: { rps: [4, 30], errorRate: [0.25, 0], p50: [1, 4], p99: [3, 5] } }, { name: 'users' }],
    ]);
    assert.deepEqual(merged, {
      orders: { rps: [4, 40], errorRate: [0.25, 0.125], p50: [1, 4], p99: [3, 8] },
    });
  });
});
