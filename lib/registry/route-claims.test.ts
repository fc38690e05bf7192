import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileRoute, RouteClaims } from './route-claims.js';

const claimed = (path: string, method = 'GET') => compileRoute({ method, path })!;

describe('RouteClaims (literal-prefix index)', () => {
  it('finds overlaps above, at and below the literal run, and nothing beside it', () => {
    const claims = new RouteClaims();
    claims.add('deep', [{ method: 'GET', path: '/api/orders/items/:id' }]);
    claims.add('mid', [{ method: 'GET', path: '/api/carts/**' }]);
    claims.add('wild', [{ method: 'GET', path: '/:any/admin' }]);
    // Below a wildcard that follows the run.
    assert.equal(claims.find('x', claimed('/api/:svc/items/7'))?.service, 'deep');
    assert.equal(claims.find('x', claimed('/api/orders/*/*'))?.service, 'deep');
    // A claim whose run is a prefix of the new route's (globstar matches zero or more segments).
    assert.equal(claims.find('x', claimed('/api/carts'))?.service, 'mid');
    assert.equal(claims.find('x', claimed('/api/carts/a/b/c'))?.service, 'mid');
    // A claim starting with a wildcard overlaps through the root.
    assert.equal(claims.find('x', claimed('/shop/admin'))?.service, 'wild');
    // Beside the run, or longer than a fully literal route: no overlap.
    assert.equal(claims.find('x', claimed('/api/orders/items')), undefined);
    assert.equal(claims.find('x', claimed('/api/users/:id')), undefined);
    assert.equal(claims.find('deep', claimed('/api/orders/items/:n')), undefined, 'its own claim');
  });

  it('counts claims per instance and prunes the index when the last one goes', () => {
    const claims = new RouteClaims();
    const routes = [{ method: 'GET', path: '/api/orders/:id' }];
    claims.add('orders', routes);
    claims.add('orders', routes);
    claims.remove('orders', routes);
    assert.equal(claims.find('x', claimed('/api/orders/1'))?.service, 'orders');
    claims.remove('orders', routes);
    assert.equal(claims.find('x', claimed('/api/orders/1')), undefined);
    assert.deepEqual(claims.overlappingPattern(claimed('/**').compiled, 'x'), []);
  });

  it('compiled routes count and prune alike, and mix with the plain form', () => {
    const claims = new RouteClaims();
    const routes = [
      { method: 'GET', path: '/api/orders/:id' },
      { method: 'GET', path: '/api/orders/:x' },
      { method: 'POST', path: '/api/orders' },
    ];
    const compiled = routes.map((r) => compileRoute(r)!);
    claims.addCompiled('orders', compiled);
    claims.add('orders', routes);
    assert.equal(claims.distinctOf('orders'), 2, 'one shape per method, counted once');
    assert.equal(claims.holders('orders', compiled[0]!), 4, 'both forms hold the same claim');
    claims.remove('orders', routes);
    assert.equal(claims.find('x', claimed('/api/orders/1'))?.service, 'orders');
    claims.removeCompiled('orders', compiled);
    assert.equal(claims.distinctOf('orders'), 0);
    assert.equal(claims.find('x', claimed('/api/orders/1')), undefined);
    assert.deepEqual(claims.overlappingPattern(claimed('/**').compiled, 'x'), []);
  });
});
