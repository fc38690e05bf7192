/**
 * The pluggable store of API keys behind `apiKeys()`: one small interface, one file per
 * implementation (memory-key-store.ts, redis-key-store.ts). Stores are addressed by the key's
 * SHA-256 only, so no store ever holds or sees a key in clear.
 */
import type { ApiKeyRecord } from './api-key-spec.js';

/**
 * Where API keys live. `lookup` may answer synchronously (the memory store does, so the hot path
 * allocates no promise) or with a promise (network stores).
 */
export interface KeyStore {
  /** Short name for logs, e.g. `memory`, `redis`. */
  readonly name: string;
  /** The key whose SHA-256 (lower-case hex) is `sha256`, or `undefined`. */
  lookup(sha256: string): ApiKeyRecord | undefined | Promise<ApiKeyRecord | undefined>;
  /** Optional: adds or replaces a key (by name: a key's old digest stops working). */
  put?(record: ApiKeyRecord): void | Promise<void>;
  /** Optional: removes the key called `name`; resolves whether there was one. */
  remove?(name: string): boolean | Promise<boolean>;
  /** Releases timers and caches (never an injected client). Idempotent. */
  close(): Promise<void>;
}
