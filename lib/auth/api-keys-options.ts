/**
 * Options of `apiKeys()`, their defaults and their validation.
 */
import type { Clock } from '../clock.js';
import { realClock } from '../clock.js';
import type { TrustProxy } from '../core/client-address.js';
import { mergeDefined } from '../core/options-merge.js';
import { FleetgateError } from '../errors.js';
import { type Logger, noopLogger } from '../logger.js';
import type { RouteSource } from '../routing/request-resolution.js';
import { type ApiKeySpec, parseApiKeySpecs } from './api-key-spec.js';
import type { AuthMetricsSink } from './auth-metrics-sink.js';
import { FAILED_ATTEMPTS_DEFAULT, type FailedAttemptsOptions } from './failed-attempts.js';
import type { KeyStore } from './key-store.js';

/** Options of `apiKeys()`. Give keys inline, a key `file`, a `store`, or several (looked up in that order). */
export interface ApiKeysOptions {
  /** Keys configured inline. @default [] */
  keys: readonly ApiKeySpec[];
  /** A JSON or YAML key file (`{ keys: [...] }`), read once at creation. @default undefined */
  file: string | undefined;
  /** A shared store (e.g. `RedisKeyStore`), consulted after the inline and file keys. @default undefined */
  store: KeyStore | undefined;
  /** The header carrying the key, or `false`. @default 'x-api-key' */
  header: string | false;
  /** The `Authorization` scheme carrying the key (`Authorization: ApiKey <key>`), or `false`. @default 'ApiKey' */
  authorizationScheme: string | false;
  /**
   * `true`: every request needs a valid key. `false`: only requests to a route with a
   * `permission` do; a key presented elsewhere is still checked. @default true
   */
  required: boolean;
  /**
   * The route table whose matched route's `permission` is enforced: pass the `discoveryProxy()`
   * (or its `routeTable`). Without it no permission is enforced, only the key. @default undefined
   */
  routes: RouteSource | undefined;
  /** The header telling the upstream which key was used (any value the client sent is removed), or `false`. @default 'x-api-key-name' */
  nameHeader: string | false;
  /** Remove the key from the request before it is forwarded. @default true */
  stripCredential: boolean;
  /** The realm in `WWW-Authenticate`. @default 'fleetgate' */
  realm: string;
  /** Failed attempts allowed per client address, or `false` to not count them. @default { limit: 20, window: '1m' } */
  failedAttempts: FailedAttemptsOptions | false;
  /** Proxies whose `X-Forwarded-For` is believed when counting failures by address. @default false */
  trustProxy: TrustProxy;
  /** A store slower than this answers 503 `ERR_FG_AUTH_UNAVAILABLE`. @default 1000 */
  storeTimeoutMs: number;
  /** Time source (key expiry, store timeout, failure buckets). @default realClock */
  clock: Clock;
  /** @default noopLogger */
  logger: Logger;
  /** Where refused requests are counted (`createMetrics()` fits; lib/auth/auth-metrics-sink.ts). @default undefined */
  metrics: AuthMetricsSink | undefined;
}

/** Defaults of {@link ApiKeysOptions}. Frozen. */
export const API_KEYS_DEFAULTS: Readonly<ApiKeysOptions> = Object.freeze({
  keys: Object.freeze([]) as readonly ApiKeySpec[],
  file: undefined,
  store: undefined,
  header: 'x-api-key',
  authorizationScheme: 'ApiKey',
  required: true,
  routes: undefined,
  nameHeader: 'x-api-key-name',
  stripCredential: true,
  realm: 'fleetgate',
  failedAttempts: FAILED_ATTEMPTS_DEFAULT,
  trustProxy: false,
  storeTimeoutMs: 1000,
  clock: realClock,
  logger: noopLogger,
  metrics: undefined,
} satisfies ApiKeysOptions);

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Merges and validates options; header names and the scheme come back lower-case.
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` naming the option.
 */
export function resolveApiKeysOptions(options: Partial<ApiKeysOptions>): ApiKeysOptions {
  const o: ApiKeysOptions = mergeDefined(API_KEYS_DEFAULTS, options);
  let keys: readonly ApiKeySpec[];
  try {
    keys = o.keys.length === 0 ? [] : parseApiKeySpecs([...o.keys]);
  } catch (err) {
    return invalid('keys', (err as Error).message);
  }
  if (o.header !== false && (typeof o.header !== 'string' || !TOKEN.test(o.header))) invalid('header', o.header);
  if (o.nameHeader !== false && (typeof o.nameHeader !== 'string' || !TOKEN.test(o.nameHeader))) {
    invalid('nameHeader', o.nameHeader);
  }
  if (
    o.authorizationScheme !== false &&
    (typeof o.authorizationScheme !== 'string' || !TOKEN.test(o.authorizationScheme))
  ) {
    invalid('authorizationScheme', o.authorizationScheme);
  }
  if (o.header === false && o.authorizationScheme === false) {
    invalid('header', o.header, 'give a header, an authorizationScheme, or both');
  }
  if (!(Number.isFinite(o.storeTimeoutMs) && o.storeTimeoutMs > 0)) invalid('storeTimeoutMs', o.storeTimeoutMs);
  if (typeof o.realm !== 'string' || /["\\\r\n]/.test(o.realm)) invalid('realm', o.realm);
  if (o.keys.length === 0 && o.file === undefined && o.store === undefined) {
    invalid('keys', o.keys, 'give keys, a key file or a store: with none every request would be refused');
  }
  return {
    ...o,
    keys,
    header: o.header === false ? false : o.header.toLowerCase(),
    nameHeader: o.nameHeader === false ? false : o.nameHeader.toLowerCase(),
    authorizationScheme: o.authorizationScheme === false ? false : o.authorizationScheme.toLowerCase(),
  };
}

function invalid(option: string, value: unknown, why?: string): never {
  throw new FleetgateError(
    'ERR_FG_INVALID_CONFIG',
    `apiKeys: invalid ${option}${why === undefined ? ` ${JSON.stringify(value)}` : `: ${why}`}`,
    { details: { option, value } },
  );
}
