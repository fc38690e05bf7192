/**
 * registry(): the per-source registration rate limit (heartbeats are not limited).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import request from 'supertest';
import { FakeClock } from '../../clock.js';
import { FURT_BODY, fixture } from './registry-router.test-kit.js';

describe('registry() HTTP API', () => {
  test('21 rapid registrations from one source: the 21st is 429 with Retry-After; the bucket refills', async () => {
    const clock = new FakeClock();
    await using fx = await fixture({ clock });
    let token = '';
    for (let i = 0; i < 20; i++) {
      token = (await request(fx.base).post('/internal/register-service').send(FURT_BODY).expect(200)).body
        .instance_token;
    }
    const limited = await request(fx.base).post('/internal/register-service').send(FURT_BODY).expect(429);
    assert.equal(limited.body.error.code, 'ERR_FG_RATE_LIMITED');
    assert.equal(limited.headers['retry-after'], '1');
    // Heartbeats are not limited.
    await request(fx.base)
      .put('/internal/services/sagjan/instances/sagjan-1/heartbeat')
      .set('x-instance-token', token)
      .expect(200);
    await clock.advance(200); // 5 tokens a second: one token back
    await request(fx.base).post('/internal/register-service').send(FURT_BODY).expect(200);
    await request(fx.base).post('/internal/register-service').send(FURT_BODY).expect(429);
    assert.equal(fx.registry.get('sagjan', 'sagjan-1')?.epoch, 21);
  });
});
