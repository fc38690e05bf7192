/**
 * The hash of each instance's last accepted token, so that a heartbeat presenting the same token
 * again skips its SHA-256. It saves work, never a check: the store still compares the hash with
 * the one it holds, in the same atomic step as the change (lib/registry/instance-token.ts). A
 * token that differs from the remembered one (a wrong token, another instance's, an old one after
 * a re-registration) is hashed afresh and refused there as before.
 */
import { hashInstanceToken, sameSecret } from '../instance-token.js';

/** Entries kept at most; past it the oldest go first. @default 100000 */
const DEFAULT_MAX_ENTRIES = 100_000;

interface Remembered {
  token: string;
  hash: string;
}

/**
 * Per-instance memory of the last token the store accepted.
 * @example
 * const tokens = new VerifiedTokens();
 * const hash = tokens.hashOf(key, req.headers['x-instance-token']); // cached when the same token
 * await registry.heartbeat(service, id, { tokenHash: hash });
 * tokens.remember(key, token, hash); // only after the store accepted it
 */
export class VerifiedTokens {
  readonly #byInstance = new Map<string, Remembered>();
  readonly #max: number;

  /** @param maxEntries bound on instances remembered. @default 100000 */
  constructor(maxEntries = DEFAULT_MAX_ENTRIES) {
    this.#max = maxEntries;
  }

  /** Instances remembered. */
  get size(): number {
    return this.#byInstance.size;
  }

  /**
   * The token hash of a request's `X-Instance-Token` header, or `undefined` when it has none (a
   * repeated header counts as none). Taken from memory only when the header is exactly the token
   * last accepted for `key`, compared in constant time.
   */
  hashOf(key: string, header: string | string[] | undefined): string | undefined {
    if (typeof header !== 'string' || header === '') return undefined;
    const known = this.#byInstance.get(key);
    return known !== undefined && sameSecret(known.token, header) ? known.hash : hashInstanceToken(header);
  }

  /** Records a token the store just accepted for `key` (a registration's new one, or a heartbeat's). */
  remember(key: string, token: string | string[] | undefined, hash: string | undefined): void {
    if (typeof token !== 'string' || hash === undefined) return;
    const known = this.#byInstance.get(key);
    if (known !== undefined && known.hash === hash) return;
    if (known === undefined && this.#byInstance.size >= this.#max) {
      const oldest = this.#byInstance.keys().next();
      if (oldest.done !== true) this.#byInstance.delete(oldest.value);
    }
    this.#byInstance.set(key, { token, hash });
  }

  /** Forgets `key` (its instance was deregistered). */
  forget(key: string): void {
    this.#byInstance.delete(key);
  }

  /** Forgets everything. */
  clear(): void {
    this.#byInstance.clear();
  }
}
