/**
 * GatewayApi, the HTTP client under registerService: error classification and request timeouts.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { FakeClock } from '../clock.js';
import { isFleetgateError } from '../errors.js';
import { GatewayApi, isTransientGatewayError, retryAfterOf } from './gateway-api.js';
import { gateway, until } from './register-service.test-kit.js';

describe('GatewayApi', () => {
  it('classifies errors and times out through the clock', async () => {
    const gw = await gateway();
    const clock = new FakeClock(0);
    const api = new GatewayApi({
      gateway: gw.url,
      prefix: '/internal',
      token: undefined,
      requestTimeoutMs: 1000,
      clock,
    });
    try {
      gw.override = () => ({ status: 409, body: { error: { code: 'ERR_FG_ROUTE_CONFLICT', message: 'taken' } } });
      const conflict = await api.register({ service: 's', url: 'http://127.0.0.1:1', routes: [] }).catch((e) => e);
      assert.ok(isFleetgateError(conflict, 'ERR_FG_ROUTE_CONFLICT'));
      assert.equal(isTransientGatewayError(conflict), false);
      gw.override = () => ({ status: 503, headers: { 'retry-after': '2' } });
      const busy = await api.heartbeat('s', 'x').catch((e) => e);
      assert.equal(isTransientGatewayError(busy), true);
      assert.equal(retryAfterOf(busy), 2000);
      gw.override = undefined;
      assert.equal(await api.deregister('s', 'nobody'), false);
      const hang = createServer(() => {}); // accepts, never answers
      await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
      const slow = new GatewayApi({
        gateway: `http://127.0.0.1:${(hang.address() as AddressInfo).port}`,
        prefix: '/internal',
        token: undefined,
        requestTimeoutMs: 1000,
        clock,
      });
      const pending = slow.heartbeat('s', 'x').catch((e) => e);
      await until(() => clock.pending > 0, 'request timer armed');
      await clock.advance(1000);
      const timedOut = await pending;
      assert.ok(isFleetgateError(timedOut, 'ERR_FG_UPSTREAM_TIMEOUT'));
      assert.equal(isTransientGatewayError(timedOut), true);
      await slow.close();
      hang.closeAllConnections();
      await new Promise<void>((r) => hang.close(() => r()));
    } finally {
      await api.close();
    }
  });
});
