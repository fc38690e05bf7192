/**
 * registerService: permanent refusals (4xx) fail the handle once, with no retry loop.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../clock.js';
import { type FleetgateError, isFleetgateError } from '../errors.js';
import { gateway, register } from './register-service.test-kit.js';

describe('registerService', () => {
  for (const [status, code] of [
    [400, 'ERR_FG_INVALID_BODY'],
    [409, 'ERR_FG_ROUTE_CONFLICT'],
    [401, 'ERR_FG_UNAUTHORIZED'],
  ] as const) {
    it(`a ${status} is permanent: 'error', ready rejects, no retry loop`, async () => {
      const gw = await gateway();
      gw.override = (s) =>
        s.method === 'POST' ? { status, body: { error: { code, message: `refused ${status}` } } } : undefined;
      const clock = new FakeClock(0);
      const h = register(gw.url, clock, { instanceId: 'i-perm' });
      const errors: FleetgateError[] = [];
      h.on('error', (e) => errors.push(e));
      await assert.rejects(h.ready, (e: unknown) => isFleetgateError(e, code) && e.status === status);
      assert.equal(errors.length, 1);
      assert.equal(errors[0]!.code, code);
      assert.equal(h.state, 'failed');
      assert.equal(clock.pending, 0, 'no timer left: nothing will retry');
      await clock.advance(10 * 60_000);
      assert.equal(gw.count('POST'), 1);
      await h.close();
      assert.equal(gw.count('DELETE'), 0, 'nothing to deregister');
    });
  }

  it("a permanent failure without an 'error' listener is logged, not thrown", async () => {
    const gw = await gateway();
    gw.override = () => ({ status: 403, body: { error: { code: 'ERR_FG_FORBIDDEN', message: 'not from here' } } });
    const logged: string[] = [];
    const h = register(gw.url, new FakeClock(0), {
      logger: { info: () => {}, warn: () => {}, error: (m: string) => logged.push(m) },
    });
    await assert.rejects(h.ready, (e: unknown) => isFleetgateError(e, 'ERR_FG_FORBIDDEN'));
    assert.equal(logged.length, 1);
    assert.match(logged[0]!, /not from here/);
  });
});
