import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import express from 'express';
import request from 'supertest';
import { FakeClock } from '../../clock.js';
import { compose } from '../../http/compose.js';
import { MemoryBackend } from '../backends/memory.js';
import { createRegistry } from '../create-registry.js';
import type { Registry } from '../registry.js';
import { REGISTRY_ROUTER_DEFAULTS, type RegistryRouterOptions, registry } from './registry-router.js';

const FURT_BODY = {
  service: 'sagjan',
  url: 'http://127.0.0.1:7812',
  health_endpoint: '/health',
  routes: [{ method: 'GET', path: '/api/comments/*', permission: 'comments:read' }],
  instance_id: 'sagjan-1',
  weight: 1,
  metadata: {},
};

interface Fixture extends AsyncDisposable {
  registry: Registry;
  server: Server;
  base: string;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A real Registry on a MemoryBackend behind `http.createServer(compose([registry(...)]))`. */
async function fixture(options: Partial<RegistryRouterOptions> = {}): Promise<Fixture> {
  const reg = await createRegistry({ backend: new MemoryBackend(), ownsBackend: true });
  const mw = registry({ registry: reg, ...options });
  const server = createServer(compose([mw]));
  const base = await listen(server);
  return {
    registry: reg,
    server,
    base,
    async [Symbol.asyncDispose]() {
      await closeServer(server);
      await mw.close();
      await reg.close();
    },
  };
}

async function listing(base: string, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await request(base).get('/internal/services').set(headers).expect(200);
  return res.body;
}

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
  test('defaults are frozen', () => {
    assert.ok(Object.isFrozen(REGISTRY_ROUTER_DEFAULTS));
    assert.ok(Object.isFrozen(REGISTRY_ROUTER_DEFAULTS.allowFrom));
    assert.throws(() => registry({ prefix: 'internal/' }), { code: 'ERR_FG_INVALID_CONFIG' });
    assert.throws(() => registry({ allowFrom: ['10.0.0.0/33'] }), { code: 'ERR_FG_INVALID_CONFIG' });
  });

  test('the furt example registers, heartbeats, lists and deregisters', async () => {
    await using fx = await fixture();
    const reg = await request(fx.base).post('/internal/register-service').send(FURT_BODY).expect(200);
    assert.deepEqual(reg.body, {
      service: 'sagjan',
      instance_id: 'sagjan-1',
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

    const hb = await request(fx.base).put('/internal/services/sagjan/instances/sagjan-1/heartbeat').expect(200);
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

    const again = await request(fx.base).post('/internal/register-service').send(FURT_BODY).expect(200);
    assert.equal(again.body.epoch, 2);

    await request(fx.base)
      .delete('/internal/services/sagjan/instances/sagjan-1')
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

  test('every bad input gets its 4xx and leaves the registry unchanged', async () => {
    await using fx = await fixture({ registrationRateLimit: { capacity: 1000, refillPerSecond: 1 } });
    await request(fx.base).post('/internal/register-service').send(FURT_BODY).expect(200);
    const before = await listing(fx.base);
    const route = FURT_BODY.routes[0]!;
    const json = (body: unknown) => ({ body: JSON.stringify(body), type: 'application/json' });
    const cases: { name: string; body: string; type: string; status: number; code: string; path?: string }[] = [
      {
        name: 'malformed JSON',
        body: '{"service":',
        type: 'application/json',
        status: 400,
        code: 'ERR_FG_MALFORMED_JSON',
      },
      { name: 'empty body', body: '', type: 'application/json', status: 400, code: 'ERR_FG_MALFORMED_JSON' },
      {
        name: 'unknown top-level field',
        ...json({ ...FURT_BODY, healthEndpoint: '/h' }),
        status: 400,
        code: 'ERR_FG_INVALID_BODY',
        path: '',
      },
      {
        name: 'unknown route field',
        ...json({ ...FURT_BODY, routes: [{ ...route, extra: 1 }] }),
        status: 400,
        code: 'ERR_FG_INVALID_BODY',
        path: 'routes[0]',
      },
      {
        name: 'service not a string',
        ...json({ ...FURT_BODY, service: 42 }),
        status: 400,
        code: 'ERR_FG_INVALID_BODY',
        path: 'service',
      },
      {
        name: 'weight a string',
        ...json({ ...FURT_BODY, weight: '1' }),
        status: 400,
        code: 'ERR_FG_INVALID_BODY',
        path: 'weight',
      },
      {
        name: 'weight out of range',
        ...json({ ...FURT_BODY, weight: 1001 }),
        status: 400,
        code: 'ERR_FG_INVALID_BODY',
        path: 'weight',
      },
      {
        name: 'routes an object',
        ...json({ ...FURT_BODY, routes: {} }),
        status: 400,
        code: 'ERR_FG_INVALID_BODY',
        path: 'routes',
      },
      { name: 'body an array', ...json([FURT_BODY]), status: 400, code: 'ERR_FG_INVALID_BODY', path: '' },
      {
        name: 'ftp: url',
        ...json({ ...FURT_BODY, url: 'ftp://127.0.0.1/x' }),
        status: 400,
        code: 'ERR_FG_INVALID_BODY',
        path: 'url',
      },
      {
        name: 'javascript: url',
        ...json({ ...FURT_BODY, url: 'javascript:alert(1)' }),
        status: 400,
        code: 'ERR_FG_INVALID_BODY',
        path: 'url',
      },
      {
        name: 'url without host',
        ...json({ ...FURT_BODY, url: 'http://' }),
        status: 400,
        code: 'ERR_FG_INVALID_BODY',
        path: 'url',
      },
      {
        name: 'url with credentials',
        ...json({ ...FURT_BODY, url: 'http://u:p@127.0.0.1:1' }),
        status: 400,
        code: 'ERR_FG_INVALID_BODY',
        path: 'url',
      },
      {
        name: 'over-long service name',
        ...json({ ...FURT_BODY, service: 's'.repeat(65) }),
        status: 400,
        code: 'ERR_FG_INVALID_BODY',
        path: 'service',
      },
      {
        name: 'bad instance id',
        ...json({ ...FURT_BODY, instance_id: '../x' }),
        status: 400,
        code: 'ERR_FG_INVALID_BODY',
        path: 'instance_id',
      },
      {
        name: 'health endpoint without /',
        ...json({ ...FURT_BODY, health_endpoint: 'health' }),
        status: 400,
        code: 'ERR_FG_INVALID_BODY',
        path: 'health_endpoint',
      },
      {
        name: 'bad method',
        ...json({ ...FURT_BODY, routes: [{ ...route, method: 'TRACE' }] }),
        status: 400,
        code: 'ERR_FG_INVALID_BODY',
        path: 'routes[0].method',
      },
      {
        name: '.. in a route path',
        ...json({ ...FURT_BODY, routes: [{ ...route, path: '/api/../admin' }] }),
        status: 400,
        code: 'ERR_FG_INVALID_BODY',
        path: 'routes[0].path',
      },
      {
        name: '257 routes',
        ...json({ ...FURT_BODY, routes: Array.from({ length: 257 }, (_, i) => ({ method: 'GET', path: `/r/${i}` })) }),
        status: 400,
        code: 'ERR_FG_INVALID_BODY',
        path: 'routes',
      },
      {
        name: 'metadata over 4 KiB',
        ...json({ ...FURT_BODY, metadata: { pad: 'x'.repeat(4096) } }),
        status: 400,
        code: 'ERR_FG_INVALID_BODY',
        path: 'metadata',
      },
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
    await using fx = await fixture({ allowFrom: ['10.0.0.0/8'], trustProxy: true });
    await request(fx.base).get('/internal/services').set('x-forwarded-for', '10.1.2.3').expect(200);
    await request(fx.base).get('/internal/services').set('x-forwarded-for', '10.1.2.3, 192.0.2.7').expect(403);
    await using strict = await fixture({ allowFrom: ['10.0.0.0/8'] });
    await request(strict.base).get('/internal/services').set('x-forwarded-for', '10.1.2.3').expect(403);
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

  test('21 rapid registrations from one source: the 21st is 429 with Retry-After; the bucket refills', async () => {
    const clock = new FakeClock();
    await using fx = await fixture({ clock });
    for (let i = 0; i < 20; i++) {
      await request(fx.base).post('/internal/register-service').send(FURT_BODY).expect(200);
    }
    const limited = await request(fx.base).post('/internal/register-service').send(FURT_BODY).expect(429);
    assert.equal(limited.body.error.code, 'ERR_FG_RATE_LIMITED');
    assert.equal(limited.headers['retry-after'], '1');
    // Heartbeats are not limited.
    await request(fx.base).put('/internal/services/sagjan/instances/sagjan-1/heartbeat').expect(200);
    await clock.advance(200); // 5 tokens a second: one token back
    await request(fx.base).post('/internal/register-service').send(FURT_BODY).expect(200);
    await request(fx.base).post('/internal/register-service').send(FURT_BODY).expect(429);
    assert.equal(fx.registry.get('sagjan', 'sagjan-1')?.epoch, 21);
  });

  test('a closed registry answers 503 with Retry-After', async () => {
    await using fx = await fixture();
    await fx.registry.close();
    const res = await request(fx.base).post('/internal/register-service').send(FURT_BODY).expect(503);
    assert.equal(res.body.error.code, 'ERR_FG_CLOSED');
    assert.equal(res.headers['retry-after'], '1');
  });

  test('without a registry option, creates one from the environment on first use and closes it', async () => {
    const mw = registry();
    const server = createServer(compose([mw]));
    const base = await listen(server);
    try {
      await request(base).post('/internal/register-service').send(FURT_BODY).expect(200);
      const list = (await listing(base)) as { services: Record<string, unknown> };
      assert.deepEqual(Object.keys(list.services), ['sagjan']);
    } finally {
      await closeServer(server);
      await mw.close();
    }
  });

  test('works mounted in an Express 5 app, also after express.json() parsed the body', async () => {
    const reg = await createRegistry({ backend: new MemoryBackend(), ownsBackend: true });
    const mw = registry({ registry: reg });
    const app = express();
    app.use(express.json());
    app.use(mw);
    // Mounted under a path, the prefix is the mount path's job.
    const mounted = registry({ registry: reg, prefix: '' });
    app.use('/reg', mounted);
    app.get('/other', (_req, res) => {
      res.json({ other: true });
    });
    const server = createServer(app);
    const base = await listen(server);
    try {
      const res = await request(base).post('/internal/register-service').send(FURT_BODY).expect(200);
      assert.equal(res.body.status, 'registered');
      assert.equal(reg.get('sagjan', 'sagjan-1')?.url, 'http://127.0.0.1:7812');
      const bad = await request(base)
        .post('/internal/register-service')
        .send({ ...FURT_BODY, extra: true })
        .expect(400);
      assert.equal(bad.body.error.code, 'ERR_FG_INVALID_BODY');
      await request(base).get('/other').expect(200, { other: true });
      const list = await request(base).get('/internal/services').expect(200);
      assert.equal(list.body.services.sagjan.instances.length, 1);
      await request(base).put('/reg/services/sagjan/instances/sagjan-1/heartbeat').expect(200);
      await request(base).get('/reg/services').expect(200);
    } finally {
      await closeServer(server);
      await mounted.close();
      await mw.close();
      await reg.close();
    }
  });
});
