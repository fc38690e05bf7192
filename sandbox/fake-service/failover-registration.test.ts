/**
 * FailoverRegistration: a refused connection moves the registration to the next gateway at once,
 * under the same instance id, and never deregisters on the way out (a gateway still draining
 * would remove the instance from the shared store and leave a gap in routing).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../lib/client/backoff.js';
import { gateway, until } from '../../lib/client/register-service.test-kit.js';
import { FakeClock } from '../../lib/clock.js';
import { FailoverRegistration } from './failover-registration.js';

describe('FailoverRegistration', () => {
  it('moves to the next gateway at the first refused connection, same id, no DELETE anywhere', async () => {
    const a = await gateway();
    const b = await gateway();
    const clock = new FakeClock(0);
    const reg = new FailoverRegistration({
      gateways: [a.url, b.url],
      registration: {
        service: 'sagjan',
        instanceId: 'sagjan-1',
        url: 'http://127.0.0.1:7812',
        clock,
        random: seededRandom(1),
        requestTimeoutMs: 60_000,
      },
    });
    const switched: { from: string; to: string }[] = [];
    reg.on('switched', (s) => switched.push(s));
    let moved: { gateway: string } | undefined;
    reg.on('reregistered', (r) => {
      moved = r;
    });
    try {
      assert.equal((await reg.ready).gateway, a.url);
      await a.stop(); // nobody listens on a's port any more: the next heartbeat is refused
      await clock.advance(2 * (a.heartbeatIntervalMs ?? 1000)); // past the jittered interval
      await until(() => moved !== undefined, 'registered through the second gateway');
      assert.deepEqual(switched, [{ from: a.url, to: b.url }]);
      assert.equal(moved?.gateway, b.url);
      assert.ok(b.instances.has('sagjan-1'));
      assert.equal(a.count('DELETE') + b.count('DELETE'), 0);
      assert.equal(a.count('PUT'), 0, 'the refused heartbeat never reached a');
    } finally {
      await reg.close();
    }
    // Closing for good does deregister, through the gateway in use.
    assert.equal(b.count('DELETE', '/instances/sagjan-1'), 1);
  });
});
