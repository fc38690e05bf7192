/**
 * registry(): bad bodies, methods and paths get their 4xx and leave the registry unchanged.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { describe, test } from 'node:test';
import request from 'supertest';
import { FURT_BODY, fixture, listing } from './registry-router.test-kit.js';

/** Sends a chunked (no Content-Length) JSON body of `size` bytes in 8 KiB writes. */
function postChunked(base: string, size: number): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}/internal/register-service`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
    req.on('error', reject);
    const payload = Buffer.from(JSON.stringify({ ...FURT_BODY, metadata: { pad: 'x'.repeat(size) } }));
    for (let i = 0; i < payload.length; i += 8192) req.write(payload.subarray(i, i + 8192));
    req.end();
  });
}

describe('registry() HTTP API', () => {
  test('every bad input gets its 4xx and leaves the registry unchanged', async () => {
    await using fx = await fixture({ registrationRateLimit: { capacity: 1000, refillPerSecond: 1 } });
    await request(fx.base).post('/internal/register-service').send(FURT_BODY).expect(200);
    const before = await listing(fx.base);
    const route = FURT_BODY.routes[0]!;
    const json = (body: unknown) => ({ body: JSON.stringify(body), type: 'application/json' });
    /** A body the schema rejects with 400 ERR_FG_INVALID_BODY, naming `path` in its details. */
    const invalid = (name: string, body: unknown, path: string) => ({
      name,
      ...json(body),
      status: 400,
      code: 'ERR_FG_INVALID_BODY',
      path,
    });
    type Case = { name: string; body: string; type: string; status: number; code: string; path?: string };
    const cases: Case[] = [
      {
        name: 'malformed JSON',
        body: '{"service":',
        type: 'application/json',
        status: 400,
        code: 'ERR_FG_MALFORMED_JSON',
      },
      { name: 'empty body', body: '', type: 'application/json', status: 400, code: 'ERR_FG_MALFORMED_JSON' },
      invalid('unknown top-level field', { ...FURT_BODY, healthEndpoint: '/h' }, ''),
      invalid('unknown route field', { ...FURT_BODY, routes: [{ ...route, extra: 1 }] }, 'routes[0]'),
      invalid('service not a string', { ...FURT_BODY, service: 42 }, 'service'),
      invalid('weight a string', { ...FURT_BODY, weight: '1' }, 'weight'),
      invalid('weight out of range', { ...FURT_BODY, weight: 1001 }, 'weight'),
      invalid('routes an object', { ...FURT_BODY, routes: {} }, 'routes'),
      invalid('body an array', [FURT_BODY], ''),
      invalid('ftp: url', { ...FURT_BODY, url: 'ftp://127.0.0.1/x' }, 'url'),
      invalid('javascript: url', { ...FURT_BODY, url: 'javascript:alert(1)' }, 'url'),
      invalid('url without host', { ...FURT_BODY, url: 'http://' }, 'url'),
      invalid('url with credentials', { ...FURT_BODY, url: 'http://u:p@127.0.0.1:1' }, 'url'),
      invalid('over-long service name', { ...FURT_BODY, service: 's'.repeat(65) }, 'service'),
      invalid('bad instance id', { ...FURT_BODY, instance_id: '../x' }, 'instance_id'),
      invalid('health endpoint without /', { ...FURT_BODY, health_endpoint: 'health' }, 'health_endpoint'),
      invalid('bad method', { ...FURT_BODY, routes: [{ ...route, method: 'TRACE' }] }, 'routes[0].method'),
      {
        name: '.. in a route path',
        ...json({ ...FURT_BODY, routes: [{ ...route, path: '/api/../admin' }] }),
        status: 400,
        code: 'ERR_FG_INVALID_ROUTE',
      },
      {
        name: 'a catastrophic predicate regex',
        ...json({ ...FURT_BODY, routes: [{ ...route, predicates: { headers: [{ name: 'x', regex: '(a+)+$' }] } }] }),
        status: 400,
        code: 'ERR_FG_INVALID_ROUTE',
      },
      {
        name: 'too many predicate conditions',
        ...json({ ...FURT_BODY, routes: [{ ...route, predicates: { query: Array(17).fill({ name: 'q' }) } }] }),
        status: 400,
        code: 'ERR_FG_INVALID_ROUTE',
      },
      {
        name: 'an unknown predicate',
        ...json({ ...FURT_BODY, routes: [{ ...route, predicates: { cookies: [] } }] }),
        status: 400,
        code: 'ERR_FG_INVALID_ROUTE',
      },
      {
        name: 'a bad gateway name',
        ...json({ ...FURT_BODY, routes: [{ ...route, gateways: ['no spaces'] }] }),
        status: 400,
        code: 'ERR_FG_INVALID_ROUTE',
      },
      invalid(
        '17 gateways',
        { ...FURT_BODY, routes: [{ ...route, gateways: Array(17).fill('g') }] },
        'routes[0].gateways',
      ),
      invalid(
        '257 routes',
        { ...FURT_BODY, routes: Array.from({ length: 257 }, (_, i) => ({ method: 'GET', path: `/r/${i}` })) },
        'routes',
      ),
      invalid('metadata over 4 KiB', { ...FURT_BODY, metadata: { pad: 'x'.repeat(4096) } }, 'metadata'),
      {
        name: 'body over 64 KiB',
        ...json({ ...FURT_BODY, metadata: { pad: 'x'.repeat(70_000) } }),
        status: 413,
        code: 'ERR_FG_BODY_TOO_LARGE',
      },
      {
        name: 'wrong content type',
        body: JSON.stringify(FURT_BODY),
        type: 'text/plain',
        status: 415,
        code: 'ERR_FG_UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'route conflict',
        ...json({ ...FURT_BODY, service: 'obr', instance_id: 'obr-1' }),
        status: 409,
        code: 'ERR_FG_ROUTE_CONFLICT',
      },
    ];
    for (const c of cases) {
      const res = await request(fx.base).post('/internal/register-service').set('content-type', c.type).send(c.body);
      assert.equal(res.status, c.status, `${c.name}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, c.code, c.name);
      assert.equal(typeof res.body.error.message, 'string', c.name);
      if (c.path !== undefined) {
        const details = res.body.error.details as { path: string; message: string }[];
        assert.ok(Array.isArray(details), c.name);
        assert.ok(
          details.some((d) => d.path === c.path),
          `${c.name}: ${JSON.stringify(details)}`,
        );
      }
      assert.deepEqual(await listing(fx.base), before, `${c.name} changed the registry`);
    }

    const chunked = await postChunked(fx.base, 100_000);
    assert.equal(chunked.status, 413);
    assert.equal((chunked.body as { error: { code: string } }).error.code, 'ERR_FG_BODY_TOO_LARGE');
    assert.deepEqual(await listing(fx.base), before, 'chunked oversized body changed the registry');
  });

  test('wrong methods get 405 with Allow, unknown paths 404, other paths go to next()', async () => {
    await using fx = await fixture();
    const res = await request(fx.base).get('/internal/register-service').expect(405);
    assert.equal(res.headers.allow, 'POST');
    assert.equal(res.body.error.code, 'ERR_FG_NOT_FOUND');
    assert.equal((await request(fx.base).post('/internal/services').expect(405)).headers.allow, 'GET, HEAD');
    assert.equal(
      (await request(fx.base).get('/internal/services/a/instances/b/heartbeat').expect(405)).headers.allow,
      'PUT',
    );
    const missing = await request(fx.base).get('/internal/nope').expect(404);
    assert.equal(missing.body.error.code, 'ERR_FG_NOT_FOUND');
    // Outside the prefix the middleware steps aside; compose's own 404 answers.
    const outside = await request(fx.base).get('/internalx/services').expect(404);
    assert.match(outside.body.error.message, /nothing handles GET \/internalx\/services/);
  });
});
