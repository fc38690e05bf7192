import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ServiceInstance } from '../model.js';
import { copyInstance, copyJson } from './instance-copy.js';

const stored: ServiceInstance = {
  service: 'orders',
  instanceId: 'o1',
  url: 'http://127.0.0.1:7000',
  routes: [
    {
      method: 'GET',
      path: '/api/orders/:id',
      predicates: { headers: [{ name: 'x-tenant', value: 'a' }] },
      gateways: ['g1'],
    },
  ],
  weight: 1,
  metadata: { team: 'cms', nested: { list: [1, 'two', { three: true }], empty: {} } },
  registeredAt: 1,
  lastHeartbeat: 1,
  expiresAt: 90_001,
  status: 'UP',
  epoch: 1,
};

describe('copyInstance', () => {
  test('equals structuredClone and shares nothing mutable with the original', () => {
    const copy = copyInstance(stored);
    assert.deepStrictEqual(copy, structuredClone(stored));
    copy.routes.push({ method: 'GET', path: '/x' });
    copy.routes[0]!.gateways!.push('g2');
    (copy.metadata.nested as { list: unknown[] }).list.push(4);
    assert.equal(stored.routes.length, 1);
    assert.deepEqual(stored.routes[0]!.gateways, ['g1']);
    assert.deepEqual((stored.metadata.nested as { list: unknown[] }).list, [1, 'two', { three: true }]);
  });

  test('a "__proto__" key from a JSON body stays a key and never becomes the prototype', () => {
    const parsed = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    const copy = copyJson(parsed) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(copy), Object.prototype);
    assert.equal((copy as { polluted?: boolean }).polluted, undefined);
    assert.deepEqual(Object.keys(copy), ['__proto__', 'a']);
    assert.deepStrictEqual(copy, structuredClone(parsed));
  });

  test('objects that are not plain (a Date in metadata) are copied as structuredClone copies them', () => {
    const when = new Date(0);
    const copy = copyJson({ when }) as { when: Date };
    assert.ok(copy.when instanceof Date);
    assert.notEqual(copy.when, when);
    assert.equal(copy.when.getTime(), 0);
  });
});
