/**
 * The one suite every {@link KeyStore} passes, as every registry backend passes lib/conformance: memory-key-store.test.ts and
 * redis-key-store.test.ts call it with their factory instead of copying tests.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ApiKeyRecord, hashApiKey, toApiKeyRecord } from './api-key-spec.js';
import type { KeyStore } from './key-store.js';

/** Runs the key-store cases on stores made by `factory` (one per case). */
export function describeKeyStore(
  name: string,
  factory: () => KeyStore | Promise<KeyStore>,
  options: { skip?: string | undefined } = {},
): void {
  describe(`KeyStore: ${name}`, { skip: options.skip }, () => {
    it('implements the interface', async () => {
      const store = await factory();
      assert.equal(typeof store.name, 'string');
      assert.equal(typeof store.lookup, 'function');
      assert.equal(typeof store.close, 'function');
      await store.close();
      await store.close();
    });

    it('finds a key by its SHA-256 only, with every field', async () => {
      const store = await factory();
      const record = toApiKeyRecord({
        name: 'reader',
        key: 'reader-key-0123456789abcdef',
        permissions: ['comments:read', 'x:*'],
        expires: 1_900_000_000_000,
        rateLimitClass: 'gold',
      });
      await store.put!(record);
      assert.deepEqual({ ...(await store.lookup(hashApiKey('reader-key-0123456789abcdef'))) }, { ...record });
      assert.equal(await store.lookup(hashApiKey('reader-key-0123456789abcdeX')), undefined);
      assert.equal(await store.lookup('not-a-digest'), undefined);
      await store.close();
    });

    it('replacing a key by name revokes its old digest; removing it revokes it', async () => {
      const store = await factory();
      const first = toApiKeyRecord({ name: 'ci', key: 'first-key-0123456789abcdef' });
      const second: ApiKeyRecord = toApiKeyRecord({
        name: 'ci',
        key: 'second-key-0123456789abcdef',
        permissions: ['deploy'],
      });
      await store.put!(first);
      await store.put!(second);
      assert.equal(await store.lookup(first.sha256), undefined);
      assert.deepEqual((await store.lookup(second.sha256))?.permissions, ['deploy']);
      assert.equal(await store.remove!('ci'), true);
      assert.equal(await store.remove!('ci'), false);
      assert.equal(await store.lookup(second.sha256), undefined);
      await store.close();
    });
  });
}
