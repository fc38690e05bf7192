import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SharedRegistrationData } from './shared-registration-data.js';

describe('SharedRegistrationData', () => {
  const routes = () => [{ method: 'GET', path: '/api/orders/:id' }];

  test('equal routes and metadata of one service share one frozen copy; the arguments are not kept', () => {
    const share = new SharedRegistrationData();
    const given = routes();
    const a = share.of('orders', given, { zone: 'a' });
    const b = share.of('orders', routes(), { zone: 'a' });
    assert.equal(b.routes, a.routes);
    assert.equal(b.metadata, a.metadata);
    assert.notEqual(a.routes, given);
    assert.ok(Object.isFrozen(a.routes) && Object.isFrozen(a.routes[0]) && Object.isFrozen(a.metadata));
    given[0]!.path = '/changed';
    assert.equal(a.routes[0]!.path, '/api/orders/:id');
  });

  test('different data gets its own copy and becomes the service copy; services never share', () => {
    const share = new SharedRegistrationData();
    const a = share.of('orders', routes(), {});
    const other = share.of('billing', routes(), {});
    assert.notEqual(other.routes, a.routes);
    const b = share.of('orders', [{ method: 'POST', path: '/api/orders' }], {});
    assert.notEqual(b.routes, a.routes);
    assert.equal(b.metadata, a.metadata, 'equal metadata still shared');
    assert.equal(share.of('orders', [{ method: 'POST', path: '/api/orders' }], {}).routes, b.routes);
  });

  test('forget drops the service copy', () => {
    const share = new SharedRegistrationData();
    const a = share.of('orders', routes(), {});
    share.forget('orders');
    assert.notEqual(share.of('orders', routes(), {}).routes, a.routes);
  });
});
