/**
 * The keys of a JWKS URL, cached (timers from the injectable clock, lib/clock.ts).
 *
 * - The first token waits for the first fetch; later fetches happen in the background once the
 *   set is older than `maxAgeMs`, and a failed fetch keeps the keys it had.
 * - A token whose `kid` is not in the set triggers a refetch (key rotation), but fetches start
 *   at most once per `minRefreshIntervalMs` and concurrent ones share one request: a flood of
 *   unknown `kid`s costs at most one fetch per interval, and the rest are refused at once.
 * - A fetch is bounded: `timeoutMs` for the whole exchange, `maxBytes` of body, no redirects.
 */
import type { KeyObject } from 'node:crypto';
import {
  type CryptoKey,
  createLocalJWKSet,
  errors,
  type JSONWebKeySet,
  type JWK,
  type JWSHeaderParameters,
} from 'jose';
import { request } from 'undici';
import { type Clock, realClock } from '../clock.js';
import { mergeDefined } from '../core/options-merge.js';
import { FleetgateError } from '../errors.js';
import { type Logger, noopLogger } from '../logger.js';
import { authUnavailable, unauthenticated } from './auth-errors.js';

/** Options of {@link JwksCache}. */
export interface JwksCacheOptions {
  /** Refetch in the background once the keys are this old. @default 600000 (10 min) */
  maxAgeMs: number;
  /** At most one fetch starts per this interval, whatever asks for it. @default 30000 */
  minRefreshIntervalMs: number;
  /** A fetch that takes longer fails. @default 5000 */
  timeoutMs: number;
  /** A larger JWKS document is refused. @default 262144 */
  maxBytes: number;
  /** @default realClock */
  clock: Clock;
  /** @default noopLogger */
  logger: Logger;
}

/** Defaults of {@link JwksCacheOptions}. Frozen. */
export const JWKS_CACHE_DEFAULTS: Readonly<JwksCacheOptions> = Object.freeze({
  maxAgeMs: 600_000,
  minRefreshIntervalMs: 30_000,
  timeoutMs: 5000,
  maxBytes: 262_144,
  clock: realClock,
  logger: noopLogger,
});

type KeyResolver = (header: JWSHeaderParameters, token: { payload: unknown }) => Promise<CryptoKey | KeyObject>;

/**
 * A cached JWKS, usable as jose's key resolver.
 * @example
 * const jwks = new JwksCache('https://idp.example/.well-known/jwks.json');
 * await jwtVerify(token, jwks.resolve, { algorithms: ['RS256'] });
 */
export class JwksCache {
  readonly url: string;
  readonly #opts: JwksCacheOptions;
  #set: ReturnType<typeof createLocalJWKSet> | undefined;
  #kids: ReadonlySet<string> = new Set();
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #lastStart = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;
  #fetches = 0;

  constructor(url: string, options: Partial<JwksCacheOptions> = {}) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new FleetgateError('ERR_FG_INVALID_CONFIG', `jwksUrl ${JSON.stringify(url)} is not a URL`, {
        details: { option: 'jwksUrl', value: url },
      });
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw new FleetgateError('ERR_FG_INVALID_CONFIG', `jwksUrl must be http(s), got ${parsed.protocol}`, {
        details: { option: 'jwksUrl', value: url },
      });
    }
    this.url = url;
    this.#opts = mergeDefined(JWKS_CACHE_DEFAULTS, options);
  }

  /** How many fetches have started (for tests and metrics). */
  get fetches(): number {
    return this.#fetches;
  }

  /** The `kid`s of the cached keys. */
  get kids(): readonly string[] {
    return [...this.#kids];
  }

  /** Fetches now unless a fetch started within `minRefreshIntervalMs`; resolves when that fetch ends. Never rejects. */
  refresh(): Promise<void> {
    if (this.#inflight !== undefined) return this.#inflight;
    const now = this.#opts.clock.now();
    if (now - this.#lastStart < this.#opts.minRefreshIntervalMs) return Promise.resolve();
    this.#lastStart = now;
    this.#fetches++;
    this.#inflight = this.#fetch().then(
      (jwks) => {
        this.#set = createLocalJWKSet(jwks);
        this.#kids = new Set(jwks.keys.flatMap((k) => (typeof k.kid === 'string' ? [k.kid] : [])));
        this.#fetchedAt = this.#opts.clock.now();
      },
      (err: unknown) => {
        this.#opts.logger.warn(`fleetgate jwtAuth: JWKS ${this.url} could not be fetched: ${String(err)}`);
      },
    );
    void this.#inflight.finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  /** jose's key resolver: the key for a token's protected header. */
  readonly resolve: KeyResolver = async (header, token) => {
    if (this.#set === undefined) await this.refresh();
    const set = this.#set;
    if (set === undefined) throw authUnavailable(`the signing keys (${this.url}) could not be fetched`);
    if (this.#opts.clock.now() - this.#fetchedAt >= this.#opts.maxAgeMs) void this.refresh();
    try {
      return await set(header, token as never);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
    }
    // An unknown kid: the issuer may have rotated its keys. Ask again, at most once per interval.
    const before = this.#set;
    await this.refresh();
    if (this.#set !== before && this.#set !== undefined) {
      try {
        return await this.#set(header, token as never);
      } catch (err) {
        if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      }
    }
    throw unauthenticated('no signing key matches the token', 'unknown-kid');
  };

  async #fetch(): Promise<JSONWebKeySet> {
    const signal = AbortSignal.timeout(this.#opts.timeoutMs);
    const res = await request(this.url, {
      method: 'GET',
      headers: { accept: 'application/jwk-set+json, application/json' },
      signal,
      headersTimeout: this.#opts.timeoutMs,
      bodyTimeout: this.#opts.timeoutMs,
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`HTTP ${res.statusCode}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > this.#opts.maxBytes) {
        res.body.destroy();
        throw new Error(`the JWKS is larger than ${this.#opts.maxBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { keys?: unknown };
    if (parsed === null || typeof parsed !== 'object' || !Array.isArray(parsed.keys)) {
      throw new Error('not a JWK Set ({ "keys": [...] })');
    }
    // Encryption keys are never signature keys.
    const keys = (parsed.keys as JWK[]).filter((k) => k !== null && typeof k === 'object' && k.use !== 'enc');
    return { keys };
  }
}
