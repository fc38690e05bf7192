import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFleetgateError } from '../errors.js';
import { RoutePolicies } from './route-policies.js';
import type { RouteMatch } from './types.js';

const match = (pattern: string): RouteMatch => ({
  route: { method: '*', path: pattern },
  pattern,
  params: {},
  upstreamPath: '/',
  viaNameFallback: false,
  isStatic: false,
});

describe('RoutePolicies', () => {
  it('finds a policy by the resolved route: method first, then any method; parameter names do not matter', () => {
    const p = new RoutePolicies(
      { 'POST /api/comments/:id': 'write', '/api/comments/:id': 'any', 'get /x/**': 'x' },
      't',
    );
    assert.equal(p.size, 3);
    assert.equal(p.for('POST', match('/api/comments/:cid')), 'write');
    assert.equal(p.for('GET', match('/api/comments/:id')), 'any');
    assert.equal(p.for('HEAD', match('/x/**')), 'x');
    assert.equal(p.for('GET', match('/api/comments/*')), undefined, 'a different route');
    assert.equal(p.for('GET', match('/nope')), undefined);
  });

  it('refuses keys that are not route patterns', () => {
    for (const key of ['api/x', 'GET /a/**/b', 'GET']) {
      assert.throws(
        () => new RoutePolicies({ [key]: 1 }, 'cors.routes'),
        (e) => isFleetgateError(e, 'ERR_FG_INVALID_CONFIG') && e.message.startsWith('cors.routes'),
      );
    }
  });
});
