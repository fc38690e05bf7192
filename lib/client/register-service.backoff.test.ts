/**
 * registerService: transient registration failures are retried with capped backoff or Retry-After.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../clock.js';
import { freePort, gateway, register, until } from './register-service.test-kit.js';

describe('registerService', () => {
  it('while the gateway is down, retries with growing capped backoff, then registers when it returns', async () => {
    const port = await freePort();
    const clock = new FakeClock(0);
    const h = register(`http://127.0.0.1:${port}`, clock, { random: () => 0.999_999 });
    const failures: { attempt: number; retryInMs: number; code: string }[] = [];
    h.on('registration-failed', (err, retry) => failures.push({ ...retry, code: err.code }));
    let registered = false;
    h.on('registered', () => {
      registered = true;
    });
    await until(() => failures.length === 1, 'first failure');
    for (let i = 1; i < 8; i++) {
      await clock.advance(failures[i - 1]!.retryInMs);
      await until(() => failures.length === i + 1, `failure ${i + 1}`);
    }
    assert.deepEqual(
      failures.map((f) => f.retryInMs),
      [499, 999, 1999, 3999, 7999, 15_999, 29_999, 29_999],
    );
    assert.ok(failures.every((f) => f.code === 'ERR_FG_UPSTREAM_CONNECT'));
    assert.equal(h.state, 'registering');
    const gw = await gateway(port);
    await clock.advance(29_999);
    await until(() => registered, 'registered once the gateway is back');
    assert.equal(gw.count('POST'), 1);
  });

  it('honours Retry-After on 429 and 503', async () => {
    const gw = await gateway();
    let n = 0;
    gw.override = (s) => {
      if (s.method !== 'POST' || ++n > 2) return undefined;
      return n === 1
        ? {
            status: 429,
            body: { error: { code: 'ERR_FG_RATE_LIMITED', message: 'slow down' } },
            headers: { 'retry-after': '7' },
          }
        : {
            status: 503,
            body: { error: { code: 'ERR_FG_STORE_UNAVAILABLE', message: 'store' } },
            headers: { 'retry-after': '12' },
          };
    };
    const clock = new FakeClock(0);
    const h = register(gw.url, clock);
    const waits: number[] = [];
    h.on('registration-failed', (_e, r) => waits.push(r.retryInMs));
    await until(() => waits.length === 1, '429');
    assert.equal(waits[0], 7000);
    await clock.advance(6999);
    assert.equal(gw.count('POST'), 1, 'no retry before Retry-After');
    await clock.advance(1);
    await until(() => waits.length === 2, '503');
    assert.equal(waits[1], 12_000);
    await clock.advance(12_000);
    await h.ready;
    assert.equal(gw.count('POST'), 3);
  });
});
