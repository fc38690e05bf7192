/**
 * The dashboard mounted on a real gateway (in-process, memory registry, a real upstream): who may
 * read it, who may drain, and every hostile drain request refused with a coded 4xx that changes
 * nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createGateway, type Gateway } from '../gateway.js';
import type { Registry } from '../registry/registry.js';
import {
  echoUpstream,
  memoryRegistry,
  registerInstance,
  type TestServer,
  waitFor,
} from '../test-support/http-test-kit.js';
import type { DashboardSnapshot } from './page-model.js';

const TOKEN = 'ops-token';
const json = { 'content-type': 'application/json' };
const admin = { ...json, authorization: `Bearer ${TOKEN}` };

describe('gateway dashboard', () => {
  let registry: Registry;
  let upstream: TestServer;
  let gateway: Gateway;
  let base: string;
  before(async () => {
    registry = await memoryRegistry();
    upstream = await echoUpstream('orders');
    await registerInstance(registry, 'orders', upstream.url, [{ method: 'GET', path: '/api/orders/**' }], {
      instanceId: 'orders-1',
    });
    gateway = await createGateway({ registry, env: { ADMIN_TOKEN: TOKEN }, healthChecks: false });
    const { port } = await gateway.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
    await registry.close();
  });

  const drain = (headers: Record<string, string>, body: string) =>
    fetch(`${base}/_fleetgate/api/drain`, { method: 'POST', headers, body });
  const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
  const body = (drain: unknown, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ service: 'orders', instance_id: 'orders-1', drain, ...extra });

  test('an operator reads the page (strict CSP, no framing), its assets and the snapshot', async () => {
    for (const path of ['/_fleetgate/', '/_fleetgate']) {
      const page = await fetch(`${base}${path}`);
      assert.equal(page.status, 200, path);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
      assert.equal(page.headers.get('x-frame-options'), 'DENY');
      assert.match(await page.text(), /src="\/_fleetgate\/dashboard\.js"/);
    }
    assert.equal((await fetch(`${base}/_fleetgate/dashboard.js`)).status, 200);
    assert.equal((await fetch(`${base}/_fleetgate/dashboard.css`)).status, 200);
    const snap = (await (await fetch(`${base}/_fleetgate/api/snapshot`)).json()) as DashboardSnapshot;
    assert.deepEqual(
      snap.services.map((s) => [s.name, s.up, s.total, s.instances.map((i) => i.instanceId)]),
      [['orders', 1, 1, ['orders-1']]],
    );
    assert.equal(snap.services[0]?.series?.rps.length, 60);
    assert.deepEqual(await (await fetch(`${base}/_fleetgate/api/whoami`)).json(), { admin: false });
    assert.deepEqual(
      await (await fetch(`${base}/_fleetgate/api/whoami`, { headers: { authorization: `Bearer ${TOKEN}` } })).json(),
      { admin: true },
    );
    // The explain endpoint beside it still answers.
    assert.equal((await fetch(`${base}/_fleetgate/explain?path=/api/orders/1`)).status, 200);
  });

  test('proxied requests show in the service request rate', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await fetch(`${base}/api/orders/${i}`)).status, 200);
    let snap: DashboardSnapshot | undefined;
    // The running second is not shown: wait (bounded) until the one holding the requests is over.
    await waitFor(
      () => {
        void fetch(`${base}/_fleetgate/api/snapshot`)
          .then((r) => r.json())
          .then((s) => {
            snap = s as DashboardSnapshot;
          });
        return (snap?.services[0]?.series?.rps.reduce((a, b) => a + b, 0) ?? 0) >= 5;
      },
      4000,
      'the requests in the rate series',
    );
    const series = snap?.services[0]?.series;
    assert.ok(series?.p50.some((v) => v !== null && v > 0));
    assert.ok(series?.errorRate.every((v) => v === 0));
  });

  test('hostile drain requests get a coded 4xx and change nothing', async () => {
    const cases: Array<[string, Promise<Response>, number, string]> = [
      ['no token', drain(json, body(true)), 401, 'ERR_FG_UNAUTHORIZED'],
      ['wrong token', drain({ ...json, authorization: 'Bearer nope' }, body(true)), 403, 'ERR_FG_FORBIDDEN'],
      ['basic auth', drain({ ...json, authorization: `Basic ${TOKEN}` }, body(true)), 403, 'ERR_FG_FORBIDDEN'],
      ['cross-site origin', drain({ ...admin, origin: 'https://evil.example' }, body(true)), 403, 'ERR_FG_FORBIDDEN'],
      ['cross-site fetch', drain({ ...admin, 'sec-fetch-site': 'cross-site' }, body(true)), 403, 'ERR_FG_FORBIDDEN'],
      [
        'form body',
        drain({ ...admin, 'content-type': 'text/plain' }, body(true)),
        415,
        'ERR_FG_UNSUPPORTED_MEDIA_TYPE',
      ],
      ['malformed JSON', drain(admin, '{"service":'), 400, 'ERR_FG_MALFORMED_JSON'],
      ['array body', drain(admin, '[]'), 400, 'ERR_FG_INVALID_BODY'],
      ['drain not boolean', drain(admin, body('yes')), 400, 'ERR_FG_INVALID_BODY'],
      ['unknown field', drain(admin, body(true, { status: 'DOWN' })), 400, 'ERR_FG_INVALID_BODY'],
      ['empty service', drain(admin, body(true, { service: '' })), 400, 'ERR_FG_INVALID_BODY'],
      ['huge body', drain(admin, body(true, { service: 'x'.repeat(10_000) })), 413, 'ERR_FG_BODY_TOO_LARGE'],
      ['unknown instance', drain(admin, body(true, { instance_id: 'nope' })), 404, 'ERR_FG_UNKNOWN_INSTANCE'],
      ['unknown service', drain(admin, body(true, { service: 'nope' })), 404, 'ERR_FG_UNKNOWN_INSTANCE'],
      ['GET', fetch(`${base}/_fleetgate/api/drain`, { headers: admin }), 405, 'ERR_FG_METHOD_NOT_ALLOWED'],
    ];
    for (const [name, pending, status, expected] of cases) {
      const res = await pending;
      assert.equal(res.status, status, name);
      assert.equal(await code(res), expected, name);
    }
    assert.equal(registry.get('orders', 'orders-1')?.status, 'UP');
    assert.equal((await fetch(`${base}/api/orders/1`)).status, 200);
  });

  test('an admin drains an instance out of routing and undrains it back', async () => {
    const drained = await drain(admin, body(true));
    assert.equal(drained.status, 200);
    assert.deepEqual(await drained.json(), {
      service: 'orders',
      instance_id: 'orders-1',
      status: 'DRAINING',
      changed: true,
    });
    assert.equal(registry.get('orders', 'orders-1')?.status, 'DRAINING');
    assert.equal((await fetch(`${base}/api/orders/1`)).status, 503, 'a draining instance takes no new requests');
    const again = await drain(admin, body(true));
    assert.equal(((await again.json()) as { changed: boolean }).changed, false);
    // Same-origin requests from the page itself pass.
    const back = await drain({ ...admin, origin: base, 'sec-fetch-site': 'same-origin' }, body(false));
    assert.equal(back.status, 200);
    assert.equal(registry.get('orders', 'orders-1')?.status, 'UP');
    assert.equal((await fetch(`${base}/api/orders/1`)).status, 200);
    const snap = (await (await fetch(`${base}/_fleetgate/api/snapshot`)).json()) as DashboardSnapshot;
    const messages = snap.events.map((e) => `${e.target} ${e.message}`);
    assert.ok(messages.includes('orders-1 UP → DRAINING'), messages.join('\n'));
    assert.ok(messages.includes('orders-1 DRAINING → UP'), messages.join('\n'));
    const history = snap.services[0]?.instances[0]?.history.map((m) => m.status);
    assert.deepEqual(history?.slice(-3), ['UP', 'DRAINING', 'UP']);
  });
});

describe('gateway dashboard access', () => {
  test('callers outside ADMIN_ALLOW_FROM without the token get 403 from every dashboard path', async () => {
    await using registry = await memoryRegistry();
    await using gateway = await createGateway({
      registry,
      env: { ADMIN_ALLOW_FROM: '10.0.0.0/8', ADMIN_TOKEN: TOKEN },
      healthChecks: false,
    });
    const { port } = await gateway.listen(0, '127.0.0.1');
    for (const path of [
      '/_fleetgate/',
      '/_fleetgate/dashboard.js',
      '/_fleetgate/api/snapshot',
      '/_fleetgate/api/stream',
    ]) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      assert.equal(res.status, 403, path);
      assert.equal(await code(res), 'ERR_FG_FORBIDDEN', path);
    }
    const withToken = await fetch(`http://127.0.0.1:${port}/_fleetgate/api/snapshot`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(withToken.status, 200);
  });

  test('without ADMIN_TOKEN nobody is an admin: the dashboard is read-only', async () => {
    await using registry = await memoryRegistry();
    await registerInstance(registry, 'orders', 'http://127.0.0.1:9', [], { instanceId: 'orders-1' });
    await using gateway = await createGateway({ registry, env: {}, healthChecks: false });
    const { port } = await gateway.listen(0, '127.0.0.1');
    const res = await fetch(`http://127.0.0.1:${port}/_fleetgate/api/drain`, {
      method: 'POST',
      headers: { ...json, authorization: 'Bearer anything' },
      body: JSON.stringify({ service: 'orders', instance_id: 'orders-1', drain: true }),
    });
    assert.equal(res.status, 403);
    assert.equal(registry.get('orders', 'orders-1')?.status, 'UP');
  });

  test('a draining gateway ends open dashboard streams instead of holding its shutdown grace', {
    timeout: 20_000,
  }, async () => {
    await using registry = await memoryRegistry();
    const gateway = await createGateway({ registry, env: {}, healthChecks: false });
    const { port } = await gateway.listen(0, '127.0.0.1');
    const res = await fetch(`http://127.0.0.1:${port}/_fleetgate/api/stream`);
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    assert.match(new TextDecoder().decode((await reader.read()).value), /retry: 1000/);
    // With the stream held, close() would wait out the whole minute of grace (beyond the test's timeout).
    await gateway.close({ graceMs: 60_000 });
    for (;;) if ((await reader.read()).done) break;
  });

  test('dashboard: false leaves /_fleetgate/ unserved', async () => {
    await using registry = await memoryRegistry();
    await using gateway = await createGateway({ registry, env: {}, healthChecks: false, dashboard: false });
    const { port } = await gateway.listen(0, '127.0.0.1');
    assert.equal((await fetch(`http://127.0.0.1:${port}/_fleetgate/`)).status, 404);
  });
});

async function code(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}
