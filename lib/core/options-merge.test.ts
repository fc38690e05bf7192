import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dropUndefined, mergeDefined } from './options-merge.js';

describe('mergeDefined', () => {
  it('keeps defaults for undefined fields and never mutates the defaults', () => {
    const defaults = Object.freeze({ a: 1, b: 'x' });
    const merged = mergeDefined(defaults, { a: undefined, b: 'y' });
    assert.deepEqual(merged, { a: 1, b: 'y' });
    assert.deepEqual(defaults, { a: 1, b: 'x' });
    assert.deepEqual(mergeDefined(defaults), { a: 1, b: 'x' });
  });
});

describe('dropUndefined', () => {
  it('drops only undefined fields', () => {
    assert.deepEqual(dropUndefined({ a: undefined, b: 0, c: null, d: false }), { b: 0, c: null, d: false });
  });
});
