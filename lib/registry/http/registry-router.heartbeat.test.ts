/**
 * registry(): the heartbeat answer (written by sendHeartbeatAnswer, not the generic JSON writer)
 * keeps its status, headers and body, and a registry that throws instead of rejecting is answered
 * with its coded error.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import request from 'supertest';
import { FleetgateError } from '../../errors.js';
import { FURT_BODY, fixture } from './registry-router.test-kit.js';

describe('registry() heartbeat answer', () => {
  test('200 with the JSON headers and {service, instance_id, expires_at, status} in that order', async () => {
    await using fx = await fixture();
    const reg = await request(fx.base).post('/internal/register-service').send(FURT_BODY).expect(200);
    const hb = await request(fx.base)
      .put('/internal/services/sagjan/instances/sagjan-1/heartbeat')
      .set('x-instance-token', reg.body.instance_token)
      .expect(200);
    assert.equal(hb.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(hb.headers['cache-control'], 'no-store');
    assert.equal(Number(hb.headers['content-length']), Buffer.byteLength(hb.text));
    const held = fx.registry.get('sagjan', 'sagjan-1')!;
    assert.equal(
      hb.text,
      JSON.stringify({
        service: 'sagjan',
        instance_id: 'sagjan-1',
        expires_at: new Date(held.expiresAt).toISOString(),
        status: 'UP',
      }),
    );
  });

  test('a wrong token after a right one is still refused 403 ERR_FG_NOT_OWNER', async () => {
    await using fx = await fixture();
    const reg = await request(fx.base).post('/internal/register-service').send(FURT_BODY).expect(200);
    const path = '/internal/services/sagjan/instances/sagjan-1/heartbeat';
    await request(fx.base).put(path).set('x-instance-token', reg.body.instance_token).expect(200);
    const token = reg.body.instance_token as string;
    const wrong = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    const refused = await request(fx.base).put(path).set('x-instance-token', wrong).expect(403);
    assert.equal(refused.body.error.code, 'ERR_FG_NOT_OWNER');
    await request(fx.base).put(path).set('x-instance-token', token).expect(200);
  });

  test('a registry whose heartbeat throws (instead of rejecting) gets its coded answer; the server lives on', async () => {
    await using fx = await fixture();
    fx.registry.heartbeat = () => {
      throw new FleetgateError('ERR_FG_STORE_UNAVAILABLE', 'the store is down');
    };
    for (let i = 0; i < 2; i++) {
      const res = await request(fx.base)
        .put('/internal/services/a/instances/a-1/heartbeat')
        .set('x-instance-token', 'x')
        .expect(503);
      assert.equal(res.body.error.code, 'ERR_FG_STORE_UNAVAILABLE');
      assert.equal(res.headers['retry-after'], '1');
    }
  });
});
