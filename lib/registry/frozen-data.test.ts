import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { frozenCopy, sameData } from './frozen-data.js';

describe('frozenCopy and sameData', () => {
  test('copies plain data deeply and freezes it, keeping the original mutable and untouched', () => {
    const original = { a: [{ b: 'x' }, 2], c: { d: null } };
    const copy = frozenCopy(original);
    assert.deepEqual(copy, original);
    assert.notEqual(copy.a, original.a);
    assert.ok(
      Object.isFrozen(copy) && Object.isFrozen(copy.a) && Object.isFrozen(copy.a[0]) && Object.isFrozen(copy.c),
    );
    original.c.d = 'changed' as never;
    assert.equal(copy.c.d, null);
    assert.ok(!Object.isFrozen(original));
  });

  test('a "__proto__" key from a JSON body stays a key and never becomes the prototype', () => {
    const parsed = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    const copy = frozenCopy(parsed);
    assert.equal(Object.getPrototypeOf(copy), Object.prototype);
    assert.equal((copy as { polluted?: boolean }).polluted, undefined);
    assert.deepEqual(Object.keys(copy), ['__proto__', 'a']);
    assert.ok(Object.isFrozen(copy) && Object.isFrozen(Object.getOwnPropertyDescriptor(copy, '__proto__')?.value));
    assert.ok(sameData(copy, parsed));
  });

  test('objects that are not plain are cloned, not flattened', () => {
    const when = new Date(5);
    const copy = frozenCopy({ when });
    assert.ok(copy.when instanceof Date && copy.when.getTime() === 5 && copy.when !== when);
  });

  test('equality is deep and exact', () => {
    assert.ok(sameData([{ method: 'GET', path: '/a' }], [{ method: 'GET', path: '/a' }]));
    assert.ok(!sameData([{ method: 'GET', path: '/a' }], [{ method: 'GET', path: '/b' }]));
    assert.ok(!sameData({ a: 1 }, { a: 1, b: undefined }));
    assert.ok(!sameData({ a: undefined }, { b: undefined }));
    assert.ok(!sameData([1], { 0: 1 }));
    assert.ok(!sameData({ a: [1, 2] }, { a: [1, 2, 3] }));
    assert.ok(!sameData(new Date(1), new Date(1)), 'non-plain objects equal themselves only');
    assert.ok(sameData({}, {}));
  });
});
