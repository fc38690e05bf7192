/**
 * The default key store: the configured keys in a Map by digest. Answers synchronously.
 */
import { type ApiKeyRecord, type ApiKeySpec, toApiKeyRecord } from './api-key-spec.js';
import type { KeyStore } from './key-store.js';

/**
 * Keys in process memory.
 * @example
 * const store = new MemoryKeyStore([{ name: 'ci', key: process.env.CI_KEY!, permissions: ['deploy'] }]);
 */
export class MemoryKeyStore implements KeyStore {
  readonly name = 'memory';
  readonly #byDigest = new Map<string, ApiKeyRecord>();
  readonly #byName = new Map<string, ApiKeyRecord>();

  /** @param keys validated specs (see `parseApiKeySpecs`) or records. */
  constructor(keys: readonly (ApiKeySpec | ApiKeyRecord)[] = []) {
    for (const k of keys) this.put('expiresAt' in k ? k : toApiKeyRecord(k));
  }

  /** Number of keys. */
  get size(): number {
    return this.#byName.size;
  }

  lookup(sha256: string): ApiKeyRecord | undefined {
    return this.#byDigest.get(sha256);
  }

  put(record: ApiKeyRecord): void {
    this.remove(record.name);
    this.#byName.set(record.name, record);
    this.#byDigest.set(record.sha256, record);
  }

  remove(name: string): boolean {
    const old = this.#byName.get(name);
    if (old === undefined) return false;
    this.#byName.delete(name);
    if (this.#byDigest.get(old.sha256) === old) this.#byDigest.delete(old.sha256);
    return true;
  }

  async close(): Promise<void> {}
}
