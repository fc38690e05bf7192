/**
 * API keys shared by a fleet of gateways, in Redis (or Redis Cluster: every key carries the
 * `{apikeys}` hash tag, so a replace is one MULTI in one slot). A key is stored under its SHA-256
 * only: `<prefix>{apikeys}:d:<sha256>` holds the record as JSON, `<prefix>{apikeys}:n:<name>` the
 * digest in use for that name, so replacing a key revokes the old digest in the same step.
 *
 * Lookups are cached in the gateway for `cacheTtlMs`, so a hot key costs no round trip; a revoked
 * or replaced key therefore keeps working on other gateways for at most that long.
 */
import type { Cluster, Redis } from 'ioredis';
import { type Clock, realClock } from '../clock.js';
import { mergeDefined } from '../core/options-merge.js';
import { type ApiKeyRecord, type ApiKeySpec, toApiKeyRecord } from './api-key-spec.js';
import type { KeyStore } from './key-store.js';

/** Options of {@link RedisKeyStore}. */
export interface RedisKeyStoreOptions {
  /** Prefix of every Redis key. @default 'fleetgate:' */
  prefix: string;
  /** How long a found key is served from the gateway's cache. 0 disables the cache. @default 5000 */
  cacheTtlMs: number;
  /** Most cached keys. @default 10000 */
  cacheMaxKeys: number;
  /** Time source of the cache. @default realClock */
  clock: Clock;
}

/** Defaults of {@link RedisKeyStoreOptions}. Frozen. */
export const REDIS_KEY_STORE_DEFAULTS: Readonly<RedisKeyStoreOptions> = Object.freeze({
  prefix: 'fleetgate:',
  cacheTtlMs: 5000,
  cacheMaxKeys: 10_000,
  clock: realClock,
});

/**
 * A key store on an ioredis client (standalone or cluster), which it never closes.
 * @example
 * const store = new RedisKeyStore(new Redis(process.env.REDIS_URL));
 * await store.add({ name: 'mobile-app', key: secret, permissions: ['comments:read'] });
 * app.use(apiKeys({ store, routes: proxy }));
 */
export class RedisKeyStore implements KeyStore {
  readonly name = 'redis';
  readonly #client: Redis | Cluster;
  readonly #opts: RedisKeyStoreOptions;
  readonly #cache = new Map<string, { record: ApiKeyRecord; until: number }>();

  constructor(client: Redis | Cluster, options: Partial<RedisKeyStoreOptions> = {}) {
    this.#client = client;
    this.#opts = mergeDefined(REDIS_KEY_STORE_DEFAULTS, options);
  }

  #digestKey(sha256: string): string {
    return `${this.#opts.prefix}{apikeys}:d:${sha256}`;
  }

  #nameKey(name: string): string {
    return `${this.#opts.prefix}{apikeys}:n:${name}`;
  }

  async lookup(sha256: string): Promise<ApiKeyRecord | undefined> {
    const now = this.#opts.clock.now();
    const hit = this.#cache.get(sha256);
    if (hit !== undefined && hit.until > now) return hit.record;
    const raw = await this.#client.get(this.#digestKey(sha256));
    const record = raw === null ? undefined : parseRecord(raw, sha256);
    if (record === undefined) {
      this.#cache.delete(sha256);
      return undefined;
    }
    if (this.#opts.cacheTtlMs > 0) {
      if (this.#cache.size >= this.#opts.cacheMaxKeys) this.#cache.clear();
      this.#cache.set(sha256, { record, until: now + this.#opts.cacheTtlMs });
    }
    return record;
  }

  /** Validates and stores a spec (the clear key, if given, is hashed here and never sent). */
  async add(spec: ApiKeySpec): Promise<ApiKeyRecord> {
    const record = toApiKeyRecord(spec);
    await this.put(record);
    return record;
  }

  async put(record: ApiKeyRecord): Promise<void> {
    const old = await this.#client.get(this.#nameKey(record.name));
    const tx = this.#client.multi();
    if (old !== null && old !== record.sha256) tx.del(this.#digestKey(old));
    tx.set(this.#digestKey(record.sha256), JSON.stringify(record));
    tx.set(this.#nameKey(record.name), record.sha256);
    await tx.exec();
    if (old !== null) this.#cache.delete(old);
  }

  async remove(name: string): Promise<boolean> {
    const old = await this.#client.get(this.#nameKey(name));
    if (old === null) return false;
    await this.#client.multi().del(this.#digestKey(old)).del(this.#nameKey(name)).exec();
    this.#cache.delete(old);
    return true;
  }

  async close(): Promise<void> {
    this.#cache.clear();
  }
}

/** A stored record, checked field by field: the store is shared and may hold anything. */
function parseRecord(raw: string, sha256: string): ApiKeyRecord | undefined {
  try {
    const r = JSON.parse(raw) as Partial<ApiKeyRecord> | null;
    if (r === null || typeof r.name !== 'string' || r.sha256 !== sha256 || !Array.isArray(r.permissions)) {
      return undefined;
    }
    return Object.freeze({
      name: r.name,
      sha256,
      permissions: Object.freeze(r.permissions.filter((p): p is string => typeof p === 'string')),
      expiresAt: typeof r.expiresAt === 'number' ? r.expiresAt : undefined,
      rateLimitClass: typeof r.rateLimitClass === 'string' ? r.rateLimitClass : undefined,
    });
  } catch {
    return undefined;
  }
}
