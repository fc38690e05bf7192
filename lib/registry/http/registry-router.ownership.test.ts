/**
 * registry(): instance ownership (X-Instance-Token) and per-service keys (X-Service-Key).
 * Callers are told apart by source address through X-Forwarded-For (trustProxy: true).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import request from 'supertest';
import { FURT_BODY, fixture } from './registry-router.test-kit.js';

const VICTIM = '10.0.0.1';
const ATTACKER = '10.0.0.2';
const open = { trustProxy: ['loopback'], allowFrom: ['10.0.0.0/8'], registrationRateLimit: false as const };
const INSTANCE = '/internal/services/sagjan/instances/sagjan-1';

describe('registry() ownership', () => {
  test('another caller cannot heartbeat, deregister or re-register the instance; its owner can', async () => {
    await using fx = await fixture(open);
    const api = request(fx.base);
    const reg = await api.post('/internal/register-service').set('x-forwarded-for', VICTIM).send(FURT_BODY).expect(200);
    const token = reg.body.instance_token as string;
    for (const headers of [{}, { 'x-instance-token': 'guess' }, { 'x-instance-token': `${token}x` }]) {
      const from = { 'x-forwarded-for': ATTACKER, ...headers };
      const hb = await api.put(`${INSTANCE}/heartbeat`).set(from).expect(403);
      assert.equal(hb.body.error.code, 'ERR_FG_NOT_OWNER');
      assert.equal((await api.delete(INSTANCE).set(from).expect(403)).body.error.code, 'ERR_FG_NOT_OWNER');
      const hijack = { ...FURT_BODY, url: 'http://10.9.9.9:80' };
      const again = await api.post('/internal/register-service').set(from).send(hijack).expect(403);
      assert.equal(again.body.error.code, 'ERR_FG_NOT_OWNER');
    }
    const kept = fx.registry.get('sagjan', 'sagjan-1');
    assert.equal(kept?.url, FURT_BODY.url, 'the victim keeps its instance');
    assert.equal(kept?.epoch, 1);
    // The token works from anywhere; the victim's own restart (same source, token lost) works too.
    await api.put(`${INSTANCE}/heartbeat`).set({ 'x-forwarded-for': ATTACKER, 'x-instance-token': token }).expect(200);
    const restarted = await api
      .post('/internal/register-service')
      .set('x-forwarded-for', VICTIM)
      .send(FURT_BODY)
      .expect(200);
    assert.equal(restarted.body.epoch, 2);
    await api.put(`${INSTANCE}/heartbeat`).set({ 'x-forwarded-for': VICTIM, 'x-instance-token': token }).expect(403);
    await api.delete(INSTANCE).set({ 'x-forwarded-for': VICTIM, 'x-instance-token': restarted.body.instance_token });
    assert.equal(fx.registry.get('sagjan', 'sagjan-1'), undefined);
  });

  test('a 60-character service name without instance_id gets an id its own heartbeat and DELETE accept', async () => {
    await using fx = await fixture();
    const service = `s${'x'.repeat(58)}9`;
    const { instance_id: _id, ...body } = { ...FURT_BODY, service, routes: [] };
    const reg = await request(fx.base).post('/internal/register-service').send(body).expect(200);
    const id = reg.body.instance_id as string;
    assert.ok(id.length <= 64, `id ${id} is ${id.length} characters`);
    const path = `/internal/services/${service}/instances/${id}`;
    const token = { 'x-instance-token': reg.body.instance_token as string };
    await request(fx.base).put(`${path}/heartbeat`).set(token).expect(200);
    await request(fx.base).delete(path).set(token).expect(200);
  });
});

describe('registry() service keys', () => {
  const billingKey = 'billing-key-0123456789';
  const keys = [
    { name: 'sagjan-key', key: 'sagjan-key-0123456789', services: ['sagjan'], permissions: ['comments:read'] },
    {
      name: 'billing',
      sha256: createHash('sha256').update(billingKey).digest('hex'),
      services: ['billing'],
      permissions: [],
    },
  ];

  test('a registration needs a key naming its service and every route permission; refusals change nothing', async () => {
    await using fx = await fixture({ ...open, serviceKeys: keys });
    const api = request(fx.base);
    const post = (key: string | undefined, body: object = FURT_BODY) => {
      const r = api.post('/internal/register-service').set('x-forwarded-for', VICTIM);
      return (key === undefined ? r : r.set('x-service-key', key)).send(body);
    };
    const cases: { key: string | undefined; body?: object; missing: object }[] = [
      { key: undefined, missing: { key: true } },
      { key: 'not-a-key-at-all-000', missing: { key: true } },
      { key: billingKey, missing: { service: 'sagjan' } },
      {
        key: 'sagjan-key-0123456789',
        body: { ...FURT_BODY, routes: [...FURT_BODY.routes, { method: 'POST', path: '/api/x', permission: 'admin' }] },
        missing: { permissions: ['admin'] },
      },
    ];
    for (const c of cases) {
      const res = await post(c.key, c.body).expect(403);
      assert.equal(res.body.error.code, 'ERR_FG_FORBIDDEN');
      assert.deepEqual(res.body.error.details.missing, c.missing);
    }
    assert.deepEqual(fx.registry.instances(), [], 'nothing registered');
    const ok = await post('sagjan-key-0123456789').expect(200);
    await post(billingKey, { ...FURT_BODY, service: 'billing', instance_id: 'b1', routes: [] }).expect(200);
    // A restarted instance that lost its token comes back at once with its key, from anywhere ...
    const back = await api
      .post('/internal/register-service')
      .set({ 'x-forwarded-for': ATTACKER, 'x-service-key': 'sagjan-key-0123456789' })
      .send(FURT_BODY)
      .expect(200);
    assert.equal(back.body.epoch, 2);
    assert.notEqual(back.body.instance_token, ok.body.instance_token);
    // ... but with keys configured the same source alone is not enough for a holder of another key.
    const other = await post(billingKey, { ...FURT_BODY, service: 'billing', instance_id: 'b1', routes: [] });
    assert.equal(other.status, 200, 'the billing key re-registers its own instance');
  });
});

describe('registry() bounded input', () => {
  test('metadata nested 30,000 arrays deep, or deeper than the limit, is 400 ERR_FG_INVALID_BODY', async () => {
    await using fx = await fixture({ maxBodyBytes: 1 << 20 });
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    for (const n of [30_000, 12]) {
      const body = `{"service":"sagjan","url":"http://127.0.0.1:7812","metadata":{"x":${deep(n)}}}`;
      const res = await request(fx.base)
        .post('/internal/register-service')
        .set('content-type', 'application/json')
        .send(body)
        .expect(400);
      assert.equal(res.body.error.code, 'ERR_FG_INVALID_BODY', `depth ${n}`);
    }
    assert.deepEqual(fx.registry.instances(), []);
    const fine = { ...FURT_BODY, metadata: { a: { b: { c: [1, [2]] } } } };
    await request(fx.base).post('/internal/register-service').send(fine).expect(200);
  });

  test("an instance URL that reaches the gateway's own listen address is 400 ERR_FG_SELF_TARGET", async () => {
    await using fx = await fixture({ listenAddresses: () => [{ address: '0.0.0.0', port: 9 }] });
    const port = new URL(fx.base).port;
    for (const url of [
      fx.base,
      `http://localhost:${port}`,
      `http://0.0.0.0:${port}`,
      `http://[::1]:${port}`,
      'http://127.0.0.1:9',
      'http://127.1.2.3:9/',
    ]) {
      const res = await request(fx.base)
        .post('/internal/register-service')
        .send({ ...FURT_BODY, url })
        .expect(400);
      assert.equal(res.body.error.code, 'ERR_FG_SELF_TARGET', url);
    }
    assert.deepEqual(fx.registry.instances(), []);
    await request(fx.base).post('/internal/register-service').send(FURT_BODY).expect(200);
  });
});
