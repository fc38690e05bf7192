import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFleetgateError } from '../errors.js';
import { DISCOVERY_PROXY_DEFAULTS, resolveProxyOptions } from './proxy-options.js';
import { RETRY_DEFAULTS } from './retry-policy.js';

describe('discoveryProxy options', () => {
  it('has frozen defaults that resolving never mutates', () => {
    assert.ok(Object.isFrozen(DISCOVERY_PROXY_DEFAULTS));
    assert.ok(Object.isFrozen(DISCOVERY_PROXY_DEFAULTS.outlier));
    assert.ok(Object.isFrozen(DISCOVERY_PROXY_DEFAULTS.breaker));
    assert.ok(Object.isFrozen(RETRY_DEFAULTS));
    const r = resolveProxyOptions({ retries: { attempts: 0 }, outlier: { baseEjectionMs: 10 }, timeoutMs: undefined });
    assert.equal(r.retries.attempts, 0);
    assert.equal(r.retries.bufferLimitBytes, 65_536);
    assert.equal(r.outlier.baseEjectionMs, 10);
    assert.equal(r.outlier.consecutiveConnectFailures, 1);
    assert.equal(r.timeoutMs, 30_000);
    assert.equal(RETRY_DEFAULTS.attempts, 2);
  });

  it('picks the sticky balancer when sticky is given', () => {
    assert.equal(resolveProxyOptions({ sticky: { cookie: 'sid' } }).balancer, 'sticky');
    assert.equal(resolveProxyOptions({ sticky: { cookie: 'sid' }, balancer: 'weighted' }).balancer, 'weighted');
    assert.equal(resolveProxyOptions().balancer, 'round-robin');
  });

  it('picks the weighted balancer when versionWeights is given', () => {
    assert.equal(resolveProxyOptions({ versionWeights: { s: { '2': 5, '1': 95 } } }).balancer, 'weighted');
  });

  it('rejects invalid values with ERR_FG_INVALID_CONFIG', () => {
    const bad = [
      { timeoutMs: 0 },
      { connectTimeoutMs: -1 },
      { balancer: 'random' as never },
      { retries: { attempts: 1.5 } },
      { retries: { budgetRatio: 2 } },
      { onNoMatch: 'skip' as never },
      { sticky: {} },
      { versionWeights: { s: { '2': -1 } } },
      { versionWeights: { s: { '2': Number.NaN } } },
      { versionWeights: { s: 5 as never } },
      { versionWeights: { s: { '2': 5 } }, balancer: 'round-robin' as const },
    ];
    for (const opts of bad) {
      assert.throws(
        () => resolveProxyOptions(opts),
        (err) => isFleetgateError(err, 'ERR_FG_INVALID_CONFIG'),
        JSON.stringify(opts),
      );
    }
  });
});
