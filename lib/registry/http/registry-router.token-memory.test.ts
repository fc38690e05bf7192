/**
 * registry(): the remembered token hash (lib/registry/http/verified-tokens.ts) saves a SHA-256 per
 * heartbeat and never a check. Written hostile first: every token that is not the one the store
 * holds is still refused once the right one has been remembered.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import request from 'supertest';
import { FURT_BODY, fixture } from './registry-router.test-kit.js';

const INSTANCE = '/internal/services/sagjan/instances/sagjan-1';
const open = { registrationRateLimit: false as const };

describe('registry() remembered instance tokens', () => {
  test('after the right token was accepted, a wrong, truncated or extended one is still refused', async () => {
    await using fx = await fixture(open);
    const api = request(fx.base);
    const token = (await api.post('/internal/register-service').send(FURT_BODY).expect(200)).body
      .instance_token as string;
    await api.put(`${INSTANCE}/heartbeat`).set('x-instance-token', token).expect(200);
    const before = fx.registry.get('sagjan', 'sagjan-1');
    const flipped = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    for (const wrong of [
      flipped,
      token.slice(0, -1),
      `${token}x`,
      token.toLowerCase() === token ? 'x' : token.toLowerCase(),
    ]) {
      const hb = await api.put(`${INSTANCE}/heartbeat`).set('x-instance-token', wrong).expect(403);
      assert.equal(hb.body.error.code, 'ERR_FG_NOT_OWNER', `token ${wrong}`);
      await api.delete(INSTANCE).set('x-instance-token', wrong).expect(403);
    }
    assert.deepEqual(fx.registry.get('sagjan', 'sagjan-1'), before, 'refusals change nothing');
    await api.put(`${INSTANCE}/heartbeat`).set('x-instance-token', token).expect(200);
  });

  test('a re-registration with a new token retires the remembered one', async () => {
    await using fx = await fixture(open);
    const api = request(fx.base);
    const first = (await api.post('/internal/register-service').send(FURT_BODY).expect(200)).body
      .instance_token as string;
    await api.put(`${INSTANCE}/heartbeat`).set('x-instance-token', first).expect(200);
    const second = (
      await api.post('/internal/register-service').set('x-instance-token', first).send(FURT_BODY).expect(200)
    ).body.instance_token as string;
    assert.notEqual(second, first);
    const old = await api.put(`${INSTANCE}/heartbeat`).set('x-instance-token', first).expect(403);
    assert.equal(old.body.error.code, 'ERR_FG_NOT_OWNER');
    await api.put(`${INSTANCE}/heartbeat`).set('x-instance-token', second).expect(200);
  });

  test("one instance's remembered token does not open another instance", async () => {
    await using fx = await fixture(open);
    const api = request(fx.base);
    const tokenA = (await api.post('/internal/register-service').send(FURT_BODY).expect(200)).body
      .instance_token as string;
    await api
      .post('/internal/register-service')
      .send({ ...FURT_BODY, instance_id: 'sagjan-2', url: 'http://127.0.0.1:7813' })
      .expect(200);
    await api.put(`${INSTANCE}/heartbeat`).set('x-instance-token', tokenA).expect(200);
    const other = await api
      .put('/internal/services/sagjan/instances/sagjan-2/heartbeat')
      .set('x-instance-token', tokenA)
      .expect(403);
    assert.equal(other.body.error.code, 'ERR_FG_NOT_OWNER');
  });

  test('a remembered token does not outlive its instance: after a deregistration elsewhere it answers unknown', async () => {
    await using fx = await fixture(open);
    const api = request(fx.base);
    const token = (await api.post('/internal/register-service').send(FURT_BODY).expect(200)).body
      .instance_token as string;
    await api.put(`${INSTANCE}/heartbeat`).set('x-instance-token', token).expect(200);
    // Removed through the registry itself (as another gateway would, through the store).
    assert.equal(await fx.registry.deregister('sagjan', 'sagjan-1'), true);
    const hb = await api.put(`${INSTANCE}/heartbeat`).set('x-instance-token', token).expect(404);
    assert.equal(hb.body.error.code, 'ERR_FG_UNKNOWN_INSTANCE');
    // A new owner registers the id afresh; the old remembered token is not theirs.
    const fresh = (await api.post('/internal/register-service').send(FURT_BODY).expect(200)).body
      .instance_token as string;
    await api.put(`${INSTANCE}/heartbeat`).set('x-instance-token', token).expect(403);
    await api.put(`${INSTANCE}/heartbeat`).set('x-instance-token', fresh).expect(200);
  });
});
