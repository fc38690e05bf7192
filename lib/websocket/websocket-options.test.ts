import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFleetgateError } from '../errors.js';
import type { RegistryApi } from '../registry/registry-api.js';
import { resolveWebSocketOptions, WEBSOCKET_GATEWAY_DEFAULTS } from './websocket-options.js';

const registry = { instances: () => [] } as unknown as RegistryApi;

describe('websocket gateway options', () => {
  it('has frozen defaults that resolving never mutates', () => {
    assert.equal(Object.isFrozen(WEBSOCKET_GATEWAY_DEFAULTS), true);
    const o = resolveWebSocketOptions({ registry, maxPayload: undefined, messagesPerSecond: 50 });
    assert.equal(o.maxPayload, 64 * 1024);
    assert.equal(o.messageBurst, 100, 'burst defaults to twice the rate');
    assert.equal(o.balancer, 'least-connections');
    assert.equal(o.heartbeatIntervalMs, 30_000);
    assert.equal(WEBSOCKET_GATEWAY_DEFAULTS.messagesPerSecond, 100);
  });

  it('refuses invalid options with ERR_FG_INVALID_CONFIG naming them', () => {
    const bad: Record<string, unknown>[] = [
      { registry: {} },
      { balancer: 'sticky' },
      { messagePath: 'ws' },
      { upstreamMessagePath: '' },
      { heartbeatIntervalMs: 0 },
      { maxPayload: -1 },
      { messagesPerSecond: -1 },
      { messagesPerSecond: 10, messageBurst: 0 },
      { rateLimitStrikes: 0.5 },
      { connectRetries: -1 },
    ];
    for (const extra of bad) {
      assert.throws(
        () => resolveWebSocketOptions({ registry, ...extra } as never),
        (err: unknown) =>
          isFleetgateError(err, 'ERR_FG_INVALID_CONFIG') && err.message.includes(Object.keys(extra).at(-1)!),
        JSON.stringify(extra),
      );
    }
    assert.equal(resolveWebSocketOptions({ registry, messagePath: false, messagesPerSecond: 0 }).messagePath, false);
  });
});
