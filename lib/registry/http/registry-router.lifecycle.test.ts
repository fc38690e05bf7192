/**
 * registry(): an instance registers, heartbeats, is listed and deregisters; unknown instances and a
 * closed registry get the answers that tell a client to re-register or retry.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import request from 'supertest';
import { FURT_BODY, fixture, listing } from './registry-router.test-kit.js';

describe('registry() HTTP API', () => {
  test('the furt example registers, heartbeats, lists and deregisters', async () => {
    await using fx = await fixture();
    const reg = await request(fx.base).post('/internal/register-service').send(FURT_BODY).expect(200);
    const token = reg.body.instance_token as string;
    assert.match(token, /^[A-Za-z0-9_-]{43}$/, '256 random bits, base64url');
    assert.deepEqual(reg.body, {
      service: 'sagjan',
      instance_id: 'sagjan-1',
      instance_token: token,
      ttl_ms: fx.registry.ttlMs,
      heartbeat_interval_ms: Math.round(fx.registry.ttlMs / 3),
      status: 'registered',
      epoch: 1,
    });
    assert.match(reg.headers['content-type'] ?? '', /^application\/json/);

    const { instance_id: _id, ...withoutId } = FURT_BODY;
    const generated = await request(fx.base).post('/internal/register-service').send(withoutId).expect(200);
    assert.equal(typeof generated.body.instance_id, 'string');
    assert.notEqual(generated.body.instance_id, 'sagjan-1');

    const hb = await request(fx.base)
      .put('/internal/services/sagjan/instances/sagjan-1/heartbeat')
      .set('x-instance-token', token)
      .expect(200);
    assert.equal(hb.body.service, 'sagjan');
    assert.equal(hb.body.instance_id, 'sagjan-1');
    assert.equal(hb.body.status, 'UP');
    assert.equal(new Date(hb.body.expires_at).toISOString(), hb.body.expires_at);

    const list = (await listing(fx.base)) as { services: Record<string, { instances: Record<string, unknown>[] }> };
    assert.deepEqual(Object.keys(list.services), ['sagjan']);
    const inst = list.services.sagjan!.instances.find((i) => i.instance_id === 'sagjan-1')!;
    assert.equal(inst.url, 'http://127.0.0.1:7812');
    assert.equal(inst.health_endpoint, '/health');
    assert.equal(inst.status, 'UP');
    assert.equal(inst.weight, 1);
    assert.equal(inst.epoch, 1);
    assert.deepEqual(inst.routes, [{ method: 'GET', path: '/api/comments/*', permission: 'comments:read' }]);
    for (const key of ['registered_at', 'last_heartbeat', 'expires_at']) assert.match(String(inst[key]), /Z$/);

    const again = await request(fx.base)
      .post('/internal/register-service')
      .set('x-instance-token', token)
      .send(FURT_BODY)
      .expect(200);
    assert.equal(again.body.epoch, 2);
    assert.notEqual(again.body.instance_token, token, 'every registration issues a new token');

    await request(fx.base)
      .delete('/internal/services/sagjan/instances/sagjan-1')
      .set('x-instance-token', again.body.instance_token)
      .expect(200, { status: 'deregistered' });
    assert.equal(fx.registry.get('sagjan', 'sagjan-1'), undefined);
    const gone = await request(fx.base).delete('/internal/services/sagjan/instances/sagjan-1').expect(404);
    assert.equal(gone.body.error.code, 'ERR_FG_UNKNOWN_INSTANCE');
  });

  test('a heartbeat for an unknown instance is 404 ERR_FG_UNKNOWN_INSTANCE (re-register)', async () => {
    await using fx = await fixture();
    const res = await request(fx.base).put('/internal/services/sagjan/instances/nope/heartbeat').expect(404);
    assert.equal(res.body.error.code, 'ERR_FG_UNKNOWN_INSTANCE');
    const bad = await request(fx.base).put('/internal/services/%E0%A4%A/instances/x/heartbeat').expect(404);
    assert.equal(bad.body.error.code, 'ERR_FG_UNKNOWN_INSTANCE');
  });

  test('a closed registry answers 503 with Retry-After', async () => {
    await using fx = await fixture();
    await fx.registry.close();
    const res = await request(fx.base).post('/internal/register-service').send(FURT_BODY).expect(503);
    assert.equal(res.body.error.code, 'ERR_FG_CLOSED');
    assert.equal(res.headers['retry-after'], '1');
  });
});
