import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { claimAt, claimHeaderValue, claimList } from './jwt-claims.js';

describe('jwt claims', () => {
  it('reads claims by dotted path, preferring a key that is the whole path', () => {
    const payload = { a: { b: { c: 1 } }, 'x.y': 2, x: { y: 3 } };
    assert.equal(claimAt(payload, 'a.b.c'), 1);
    assert.equal(claimAt(payload, 'x.y'), 2);
    assert.equal(claimAt(payload, 'a.nope.c'), undefined);
    assert.equal(claimAt(payload, '__proto__.polluted'), undefined);
  });

  it('reads lists from arrays and space-separated strings', () => {
    assert.deepEqual(claimList({ scope: 'a  b c' }, 'scope'), ['a', 'b', 'c']);
    assert.deepEqual(claimList({ roles: ['a', 1, 'b'] }, 'roles'), ['a', 'b']);
    assert.deepEqual(claimList({ roles: { a: 1 } }, 'roles'), []);
  });

  it('turns claims into safe header values', () => {
    assert.equal(claimHeaderValue('u-1'), 'u-1');
    assert.equal(claimHeaderValue(42), '42');
    assert.equal(claimHeaderValue(true), 'true');
    assert.equal(claimHeaderValue(['a', 'b']), 'a,b');
    assert.equal(claimHeaderValue({ a: 1 }), undefined);
    assert.equal(claimHeaderValue('a\r\nx: y'), undefined);
    assert.equal(claimHeaderValue('€'), undefined);
    assert.equal(claimHeaderValue('x'.repeat(1025)), undefined);
  });
});
