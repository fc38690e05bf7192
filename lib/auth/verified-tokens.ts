/**
 * A bounded cache of tokens already verified, so a client that sends the same bearer token on
 * every request pays for the signature check once (a signature check costs tens of µs; a hit,
 * one SHA-256 and a Map lookup). An entry is used only inside the token's own validity window
 * (`nbf`/`exp`, with the same clock skew) and for at most `ttlMs`; outside it the token goes
 * through full verification again, which gives the coded answer. Issuer, audience, algorithm and
 * signature were checked for this exact token under options that never change. Keys are digests of
 * the token, and long tokens are not cached, so memory stays bounded.
 */
import { createHash } from 'node:crypto';
import type { JWTPayload } from 'jose';

/** Tokens longer than this are always verified in full. */
export const MAX_CACHED_TOKEN_LENGTH = 4096;

interface Entry {
  payload: JWTPayload;
  validFrom: number;
  validUntil: number;
}

/**
 * Verified tokens by digest, least recently stored dropped first.
 * @example
 * const cache = new VerifiedTokens(5000, 60_000, 30_000);
 * const payload = cache.get(token, now) ?? (await verify(token));
 */
export class VerifiedTokens {
  readonly #entries = new Map<string, Entry>();
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #skewMs: number;

  constructor(max: number, ttlMs: number, skewMs: number) {
    this.#max = max;
    this.#ttlMs = ttlMs;
    this.#skewMs = skewMs;
  }

  /** Number of cached tokens. */
  get size(): number {
    return this.#entries.size;
  }

  /** The payload of `token` when it was verified and is still inside its window at `now`. */
  get(token: string, now: number): JWTPayload | undefined {
    if (token.length > MAX_CACHED_TOKEN_LENGTH) return undefined;
    const key = digest(token);
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (now < e.validFrom || now >= e.validUntil) {
      this.#entries.delete(key);
      return undefined;
    }
    return e.payload;
  }

  /** Remembers a token that passed full verification at `now`. */
  set(token: string, payload: JWTPayload, now: number): void {
    if (token.length > MAX_CACHED_TOKEN_LENGTH || this.#max === 0) return;
    const exp = typeof payload.exp === 'number' ? payload.exp * 1000 + this.#skewMs : Number.POSITIVE_INFINITY;
    const nbf = typeof payload.nbf === 'number' ? payload.nbf * 1000 - this.#skewMs : Number.NEGATIVE_INFINITY;
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(digest(token), { payload, validFrom: nbf, validUntil: Math.min(exp, now + this.#ttlMs) });
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64');
}
