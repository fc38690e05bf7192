/**
 * registry(): routes are judged at registration, over HTTP: an invalid pattern is 400
 * ERR_FG_INVALID_ROUTE, an overlapping one 409, and a shadowed name fallback a warning.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import request from 'supertest';
import { FURT_BODY, fixture } from './registry-router.test-kit.js';

const register = (base: string, body: object) =>
  request(base).post('/internal/register-service').set('content-type', 'application/json').send(JSON.stringify(body));

describe('registry() routes', () => {
  test('an invalid pattern is 400 ERR_FG_INVALID_ROUTE naming the route index and the reason', async () => {
    await using fx = await fixture();
    for (const path of ['/**/**', '/a/**/b', '/:', '/:1bad', '/./x', '/%2F', '/a/%zz', '/%00', '/a/../b']) {
      const res = await register(fx.base, {
        ...FURT_BODY,
        routes: [
          { method: 'GET', path: '/fine' },
          { method: 'GET', path },
        ],
      });
      assert.equal(res.status, 400, path);
      assert.equal(res.body.error.code, 'ERR_FG_INVALID_ROUTE', path);
      assert.equal(res.body.error.details.index, 1, path);
      assert.equal(res.body.error.details.path, path);
      assert.equal(typeof res.body.error.details.reason, 'string');
    }
    assert.deepEqual(fx.registry.instances(), []);
  });

  test('the hijack cases are 409 naming the owner and both patterns', async () => {
    await using fx = await fixture();
    assert.equal((await register(fx.base, { ...FURT_BODY, service: 'victim', instance_id: 'v1' })).status, 200);
    for (const path of ['/api/comments/:id', '/api/%63omments/*', '/api/comments/7', '/**', '/health']) {
      const res = await register(fx.base, {
        ...FURT_BODY,
        service: 'attacker',
        instance_id: 'a1',
        routes: [{ method: 'GET', path }],
      });
      assert.equal(res.status, 409, path);
      assert.equal(res.body.error.code, 'ERR_FG_ROUTE_CONFLICT');
      assert.equal(res.body.error.details.route.path, path);
      assert.ok(res.body.error.details.conflictsWith.path, path);
    }
    assert.deepEqual(
      fx.registry.instances().map((i) => i.service),
      ['victim'],
    );
  });

  test('a service whose name prefix is already routed elsewhere is registered with a warning', async () => {
    await using fx = await fixture();
    await register(fx.base, {
      ...FURT_BODY,
      service: 'shop',
      instance_id: 's1',
      routes: [{ method: 'GET', path: '/cart/items' }],
    });
    const res = await register(fx.base, { ...FURT_BODY, service: 'cart', instance_id: 'c1', routes: [] });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.warnings, [
      'name fallback /cart/… is shadowed by GET /cart/items of shop: those paths go there',
    ]);
    const plain = await register(fx.base, { ...FURT_BODY, service: 'other', instance_id: 'o1', routes: [] });
    assert.equal(plain.body.warnings, undefined);
  });
});
