/**
 * registry(): access control — the allowFrom list, X-Forwarded-For with trustProxy, and the bearer token.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import request from 'supertest';
import { registry } from './registry-router.js';
import { FURT_BODY, fixture } from './registry-router.test-kit.js';

describe('registry() HTTP API', () => {
  test('a caller outside allowFrom gets 403 and changes nothing', async () => {
    await using fx = await fixture({ allowFrom: ['10.0.0.0/8'] });
    const res = await request(fx.base).post('/internal/register-service').send(FURT_BODY).expect(403);
    assert.equal(res.body.error.code, 'ERR_FG_FORBIDDEN');
    assert.equal((await request(fx.base).get('/internal/services').expect(403)).body.error.code, 'ERR_FG_FORBIDDEN');
    // Guards come before routing, so outsiders learn nothing about the API's paths.
    assert.equal((await request(fx.base).get('/internal/nope').expect(403)).body.error.code, 'ERR_FG_FORBIDDEN');
    assert.deepEqual(fx.registry.instances(), []);
  });

  test('X-Forwarded-For counts only with trustProxy, and only the hop the proxy appended', async () => {
    await using fx = await fixture({ allowFrom: ['10.0.0.0/8'], trustProxy: ['loopback'] });
    await request(fx.base).get('/internal/services').set('x-forwarded-for', '10.1.2.3').expect(200);
    await request(fx.base).get('/internal/services').set('x-forwarded-for', '10.1.2.3, 192.0.2.7').expect(403);
    await using strict = await fixture({ allowFrom: ['10.0.0.0/8'] });
    await request(strict.base).get('/internal/services').set('x-forwarded-for', '10.1.2.3').expect(403);
  });

  test('trustProxy has one meaning: true is refused, not read as "believe every hop"', async () => {
    for (const trustProxy of [true, 1] as never[]) {
      assert.throws(
        () => registry({ trustProxy }),
        (e: Error & { code?: string }) => e.code === 'ERR_FG_INVALID_CONFIG' && /trustProxy/.test(e.message),
      );
    }
  });

  test('with a token: missing 401, wrong 401, right 200', async () => {
    await using fx = await fixture({ token: 's3cret-token' });
    const missing = await request(fx.base).post('/internal/register-service').send(FURT_BODY).expect(401);
    assert.equal(missing.body.error.code, 'ERR_FG_UNAUTHORIZED');
    assert.match(missing.headers['www-authenticate'] ?? '', /^Bearer/);
    const wrong = await request(fx.base)
      .post('/internal/register-service')
      .set('authorization', 'Bearer s3cret-tokeX')
      .send(FURT_BODY)
      .expect(401);
    assert.equal(wrong.body.error.code, 'ERR_FG_UNAUTHORIZED');
    await request(fx.base)
      .post('/internal/register-service')
      .set('authorization', 'Basic czNjcmV0LXRva2Vu')
      .send(FURT_BODY)
      .expect(401);
    assert.deepEqual(fx.registry.instances(), []);
    await request(fx.base)
      .post('/internal/register-service')
      .set('authorization', 'Bearer s3cret-token')
      .send(FURT_BODY)
      .expect(200);
    assert.equal(fx.registry.instances().length, 1);
  });
});
