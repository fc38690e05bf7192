import assert from 'node:assert/strict';
import { it } from 'node:test';
import { hashApiKey } from './api-key-spec.js';
import { describeKeyStore } from './key-store.test-kit.js';
import { MemoryKeyStore } from './memory-key-store.js';

describeKeyStore('memory', () => new MemoryKeyStore());

it('MemoryKeyStore takes specs and answers synchronously', () => {
  const store = new MemoryKeyStore([{ name: 'a', key: 'a-key-0123456789abcdef' }]);
  assert.equal(store.size, 1);
  assert.equal(store.lookup(hashApiKey('a-key-0123456789abcdef'))?.name, 'a');
});
