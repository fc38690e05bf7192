import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fakeRegistry, instanceInput } from '../../fixtures/registry-doubles.js';
import { isFleetgateError, isRouteConflictError } from '../errors.js';
import type { RouteSpec } from './model.js';

const route = (method: string, path: string, extra: Partial<RouteSpec> = {}): RouteSpec => ({ method, path, ...extra });

interface ConflictDetails {
  index: number;
  route: { method: string; path: string };
  conflictsWith: { service?: string; static?: true; reserved?: true; nameOf?: string; method: string; path: string };
}

describe('route claims by meaning', () => {
  test('an attacker cannot claim any spelling of a route another service serves', async () => {
    await using fx = await fakeRegistry();
    await fx.registry.register(instanceInput('victim', 'v1', { routes: [route('GET', '/api/comments/*')] }));
    for (const path of ['/api/comments/:id', '/api/%63omments/*', '/api/comments/7', '/api/**', '/api/*/7']) {
      await assert.rejects(
        fx.registry.register(instanceInput('attacker', 'a1', { routes: [route('GET', '/x/ok'), route('GET', path)] })),
        (err) => {
          assert.ok(isRouteConflictError(err), path);
          assert.equal(err.status, 409);
          const d = err.details as ConflictDetails;
          assert.equal(d.index, 1, path);
          assert.equal(d.route.path, path);
          assert.deepEqual([d.conflictsWith.service, d.conflictsWith.path], ['victim', '/api/comments/*'], path);
          assert.match(err.message, /victim/);
          return true;
        },
      );
    }
    // HEAD falls back to GET at lookup, so it overlaps; another method does not.
    await assert.rejects(
      fx.registry.register(instanceInput('attacker', 'a1', { routes: [route('HEAD', '/api/comments/x')] })),
      isRouteConflictError,
    );
    await fx.registry.register(instanceInput('attacker', 'a1', { routes: [route('POST', '/api/comments/:id')] }));
    assert.deepEqual(
      fx.registry.instances().map((i) => i.service),
      ['victim', 'attacker'],
    );
  });

  test('/** and /:x claim reserved gateway paths and every other service', async () => {
    await using fx = await fakeRegistry();
    await fx.registry.register(instanceInput('victim', 'v1', { routes: [route('GET', '/api/comments/*')] }));
    for (const path of ['/**', '/:x', '/*/services']) {
      await assert.rejects(
        fx.registry.register(instanceInput('attacker', 'a1', { routes: [route('*', path)] })),
        isRouteConflictError,
        path,
      );
    }
  });

  test('the reserved gateway paths cannot be registered, whatever the spelling', async () => {
    await using fx = await fakeRegistry();
    for (const path of [
      '/internal/**',
      '/internal/services',
      '/health',
      '/health/',
      '/metrics',
      '/_fleetgate/**',
      '/_fleetgate/explain',
      '/%69nternal/x',
      '/livez',
      '/readyz',
      '/eureka/apps/**',
      '/v1/agent/services',
    ]) {
      await assert.rejects(
        fx.registry.register(instanceInput('svc', 's1', { routes: [route('GET', path)] })),
        (err) => isRouteConflictError(err) && (err.details as ConflictDetails).conflictsWith.reserved === true,
        path,
      );
    }
    assert.deepEqual(fx.registry.instances(), []);
    // Near misses are fine.
    await fx.registry.register(
      instanceInput('svc', 's1', { routes: [route('GET', '/healthz'), route('GET', '/health/deep')] }),
    );
  });

  test("/{service}/… belongs to service: another service's explicit route there is refused", async () => {
    await using fx = await fakeRegistry();
    await fx.registry.register(instanceInput('billing', 'b1'));
    for (const path of ['/billing/**', '/billing/invoices', '/%62illing/x']) {
      await assert.rejects(
        fx.registry.register(instanceInput('mallory', 'm1', { routes: [route('GET', path)] })),
        (err) => {
          assert.ok(isRouteConflictError(err), path);
          const d = err.details as ConflictDetails;
          assert.equal(d.conflictsWith.nameOf, 'billing');
          assert.equal(d.conflictsWith.service, 'billing');
          return true;
        },
      );
    }
    // Its own name prefix is its own.
    await fx.registry.register(instanceInput('billing', 'b2', { routes: [route('GET', '/billing/invoices/:id')] }));
  });

  test('a service registering under a name an explicit route already uses is accepted, its fallback shadowed', async () => {
    await using fx = await fakeRegistry();
    await fx.registry.register(instanceInput('shop', 's1', { routes: [route('GET', '/cart/items')] }));
    await fx.registry.register(instanceInput('cart', 'c1'));
    assert.equal(fx.registry.instances('cart').length, 1);
    const shadows = fx.registry.nameFallbackShadows('cart');
    assert.deepEqual(shadows, [{ service: 'shop', method: 'GET', path: '/cart/items', protocol: 'http' }]);
    assert.deepEqual(fx.registry.nameFallbackShadows('shop'), []);
  });

  test("a service's own overlapping patterns are fine; a static gateway route overlapping is refused", async () => {
    await using fx = await fakeRegistry({ staticRoutes: [{ method: '*', path: '/admin/**' }] });
    await fx.registry.register(
      instanceInput('api', 'a1', {
        routes: [route('GET', '/api/:id'), route('GET', '/api/me'), route('*', '/api/**')],
      }),
    );
    await fx.registry.register(instanceInput('api', 'a2', { routes: [route('GET', '/api/*')] }));
    await assert.rejects(
      fx.registry.register(instanceInput('x', 'x1', { routes: [route('GET', '/admin/:page')] })),
      (err) => isRouteConflictError(err) && (err.details as ConflictDetails).conflictsWith.static === true,
    );
  });

  test('two registrations in flight cannot both take overlapping routes', async () => {
    await using fx = await fakeRegistry();
    const results = await Promise.allSettled([
      fx.registry.register(instanceInput('one', 'o1', { routes: [route('GET', '/shared/*')] })),
      fx.registry.register(instanceInput('two', 't1', { routes: [route('GET', '/shared/:id')] })),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected'],
    );
  });
});

describe('routes are compiled at registration', () => {
  test('an invalid pattern is 400 ERR_FG_INVALID_ROUTE with its index, path and reason', async () => {
    await using fx = await fakeRegistry();
    for (const path of ['/**/**', '/a/**/b', '/:', '/:1bad', '/./x', '/%2F', '/a/%zz', '/%00']) {
      await assert.rejects(
        fx.registry.register(instanceInput('svc', 's1', { routes: [route('GET', '/ok'), route('GET', path)] })),
        (err) => {
          assert.ok(isFleetgateError(err, 'ERR_FG_INVALID_ROUTE'), path);
          assert.equal(err.status, 400);
          const d = err.details as { index: number; path: string; reason: string };
          assert.deepEqual([d.index, d.path], [1, path]);
          assert.ok(d.reason.length > 0);
          return true;
        },
      );
    }
    assert.deepEqual(fx.registry.instances(), []);
  });
});

describe('route conflicts with predicates and gateway targets', () => {
  const header = (value: string) => ({ headers: [{ name: 'x-tenant', value }] });

  test('across services: accepted only when provably disjoint, refused otherwise', async () => {
    await using fx = await fakeRegistry();
    await fx.registry.register(
      instanceInput('tenant-a', 'a1', { routes: [route('GET', '/api/**', { predicates: header('a') })] }),
    );
    // Same path, different exact header value: no request matches both.
    await fx.registry.register(
      instanceInput('tenant-b', 'b1', { routes: [route('GET', '/api/**', { predicates: header('b') })] }),
    );
    for (const routes of [
      [route('GET', '/api/x')],
      [route('GET', '/api/**', { predicates: header('a') })],
      [route('GET', '/api/**', { predicates: { headers: [{ name: 'x-other', value: 'a' }] } })],
      [route('GET', '/api/**', { predicates: { claims: [{ name: 'tenant', value: 'c' }] } })],
    ]) {
      await assert.rejects(fx.registry.register(instanceInput('tenant-c', 'c1', { routes })), isRouteConflictError);
    }
    await fx.registry.register(
      instanceInput('pub', 'p1', { routes: [route('GET', '/gw/**', { gateways: ['public'] })] }),
    );
    await fx.registry.register(
      instanceInput('int', 'i1', { routes: [route('GET', '/gw/**', { gateways: ['internal'] })] }),
    );
    await assert.rejects(
      fx.registry.register(
        instanceInput('both', 'x1', { routes: [route('GET', '/gw/x', { gateways: ['public', 'x'] })] }),
      ),
      isRouteConflictError,
    );
  });

  test('within one service: the same path with different predicates is fine', async () => {
    await using fx = await fakeRegistry();
    await fx.registry.register(instanceInput('comments', 'v1', { routes: [route('GET', '/c/**')] }));
    await fx.registry.register(
      instanceInput('comments', 'v2', {
        routes: [route('GET', '/c/**', { predicates: { claims: [{ name: 'groups', value: 'beta' }] } })],
      }),
    );
    assert.equal(fx.registry.instances('comments').length, 2);
  });

  test('invalid predicates and gateway names are 400 ERR_FG_INVALID_ROUTE with index and where', async () => {
    await using fx = await fakeRegistry();
    const bad: [Partial<RouteSpec>, string][] = [
      [{ predicates: { headers: [{ name: 'ua', regex: '(a|aa)*$' }] } }, 'predicates.headers[0].regex'],
      [{ predicates: { hosts: ['not a host'] } }, 'predicates.hosts[0]'],
      [{ predicates: { bogus: 1 } as never }, 'predicates.bogus'],
      [{ gateways: ['a b'] }, 'gateways'],
    ];
    for (const [extra, at] of bad) {
      await assert.rejects(
        fx.registry.register(instanceInput('s', 's1', { routes: [route('GET', '/ok'), route('GET', '/p', extra)] })),
        (err) => {
          assert.ok(isFleetgateError(err, 'ERR_FG_INVALID_ROUTE'), String(err));
          assert.equal(err.status, 400);
          const d = err.details as { index: number; at: string };
          assert.deepEqual([d.index, d.at], [1, at]);
          return true;
        },
      );
    }
    assert.deepEqual(fx.registry.instances(), []);
  });
});
