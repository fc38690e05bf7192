/**
 * The `rateLimit()` middleware: a token bucket per client key (and per route when configured),
 * held in a pluggable store, with `RateLimit-*` headers, 429 JSON, and a fail mode for when the
 * store is down or slow. README "Health, metrics, rate limits, tracing"
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Clock, realClock } from '../clock.js';
import type { TrustProxy } from '../core/client-address.js';
import { mergeDefined } from '../core/options-merge.js';
import { isPathFailure, normalizePath } from '../core/path-normalize.js';
import {
  type CompiledPattern,
  compilePattern,
  matchSegments,
  normalizeMethod,
  routeAcceptsMethod,
  splitSegments,
} from '../core/route-pattern.js';
import { sendError } from '../core/send-error.js';
import { rateLimitChannel } from '../diagnostics.js';
import { FleetgateError } from '../errors.js';
import { type Logger, noopLogger } from '../logger.js';
import { createKeyGenerator, type KeySpec } from './key-generators.js';
import { MemoryStore } from './memory-store.js';
import type { RateLimitStore } from './store.js';
import { type BucketConfig, type LimitSpec, type RateLimitDecision, toBucketConfig } from './token-bucket.js';

/** What a limiter decided for one request; the label of `fleetgate_ratelimit_decisions_total`. */
export type RateLimitOutcome = 'allowed' | 'limited' | 'fail_open' | 'fail_closed';

/** A limit for the requests matching `method` + `path`; the first matching route wins. */
export type RouteLimit = LimitSpec & {
  /** Upper-case method, or `*`. @default '*' */
  method?: string;
  /**
   * Pattern in the route grammar (lib/core/route-pattern.ts): `*` one segment, `**` the rest,
   * `:name` one segment. Matched against the normalised path, so every spelling that routes to
   * the endpoint (`/api//login`, `/api/%6Cogin`, …) counts against the same limit.
   */
  path: string;
  /** Bucket namespace; keep it stable across gateways sharing a store. @default `${method} ${path}` */
  id?: string;
};

/** Options of {@link rateLimit}. Give a default limit (`capacity`+`refillPerSecond` or `limit`+`window`), `routes`, or both. */
export interface RateLimitOptions {
  /** Default bucket size. */
  capacity: number | undefined;
  /** Default refill rate, tokens per second. */
  refillPerSecond: number | undefined;
  /** Alternative to capacity/refill: this many requests per `window`. */
  limit: number | undefined;
  /** The window of `limit`: `'1m'`, `'30s'`, or ms. */
  window: string | number | undefined;
  /** Per-route limits; requests matching none use the default limit (or pass when there is none). @default [] */
  routes: readonly RouteLimit[];
  /** What a request counts against. @default 'ip' */
  key: KeySpec;
  /** Proxies whose `X-Forwarded-For` is believed for `'ip'` keys, as CIDRs (lib/core/client-address.ts). @default false */
  trustProxy: TrustProxy;
  /** Where buckets live. @default a new MemoryStore (closed by the middleware's close()) */
  store: RateLimitStore | undefined;
  /** A store slower than this counts as failed, so a slow store never stalls requests. @default 100 */
  storeTimeoutMs: number;
  /** On store failure: `'open'` lets requests through, `'closed'` answers 503 ERR_FG_STORE_UNAVAILABLE. @default 'open' */
  failMode: 'open' | 'closed';
  /** Send `RateLimit-Limit/Remaining/Reset` on every limited route. @default true */
  headers: boolean;
  /** Requests for which this returns true are not counted. @default undefined */
  skip: ((req: IncomingMessage) => boolean) | undefined;
  /** Timer source for the store timeout. @default realClock */
  clock: Clock;
  /** @default noopLogger */
  logger: Logger;
  /** Receives each decision (e.g. `createMetrics().recordRateLimitDecision`). @default undefined */
  onDecision: ((outcome: RateLimitOutcome) => void) | undefined;
}

/** Defaults of {@link RateLimitOptions}. Frozen. */
export const RATE_LIMIT_DEFAULTS: Readonly<RateLimitOptions> = Object.freeze({
  capacity: undefined,
  refillPerSecond: undefined,
  limit: undefined,
  window: undefined,
  routes: Object.freeze([]) as readonly RouteLimit[],
  key: 'ip',
  trustProxy: false,
  store: undefined,
  storeTimeoutMs: 100,
  failMode: 'open',
  headers: true,
  skip: undefined,
  clock: realClock,
  logger: noopLogger,
  onDecision: undefined,
} satisfies RateLimitOptions);

type Next = (err?: unknown) => void;

/** The middleware returned by {@link rateLimit}; disposable because it may own its store. */
export interface RateLimitMiddleware extends AsyncDisposable {
  (req: IncomingMessage, res: ServerResponse, next: Next): void;
  /** The store in use. */
  readonly store: RateLimitStore;
  /** Closes the store when the middleware created it. */
  close(): Promise<void>;
}

interface CompiledRoute {
  id: string;
  method: string;
  compiled: CompiledPattern;
  config: BucketConfig;
}

/**
 * Creates the rate-limit middleware.
 * @example
 * app.use(rateLimit({ limit: 100, window: '1m', key: 'api-key',
 *   routes: [{ method: 'POST', path: '/api/login', capacity: 5, refillPerSecond: 0.1 }] }));
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` on invalid options.
 */
export function rateLimit(options: Partial<RateLimitOptions> = {}): RateLimitMiddleware {
  const o: RateLimitOptions = mergeDefined(RATE_LIMIT_DEFAULTS, options);
  const fallback = defaultLimit(o);
  const routes = o.routes.map(compileRoute);
  if (fallback === undefined && routes.length === 0) {
    throw new FleetgateError(
      'ERR_FG_INVALID_CONFIG',
      'rateLimit: give capacity+refillPerSecond, limit+window, or routes',
    );
  }
  if (!(o.storeTimeoutMs > 0)) invalid('storeTimeoutMs', o.storeTimeoutMs);
  if (o.failMode !== 'open' && o.failMode !== 'closed') invalid('failMode', o.failMode);
  const keyOf = createKeyGenerator(o.key, { trustProxy: o.trustProxy });
  const ownsStore = o.store === undefined;
  const store = o.store ?? new MemoryStore({ clock: o.clock });
  let storeDown = false;

  const publish = (outcome: RateLimitOutcome, key: string, bucket: string): void => {
    o.onDecision?.(outcome);
    if (rateLimitChannel.hasSubscribers) rateLimitChannel.publish({ outcome, key, bucket, store: store.name });
  };

  const onStoreFailure = (err: unknown, res: ServerResponse, next: Next, key: string, bucket: string): void => {
    if (!storeDown) {
      storeDown = true;
      o.logger.warn(`fleetgate rate limit: ${store.name} store failed, failing ${o.failMode}: ${String(err)}`);
    }
    if (o.failMode === 'open') {
      publish('fail_open', key, bucket);
      next();
      return;
    }
    publish('fail_closed', key, bucket);
    const error = new FleetgateError('ERR_FG_STORE_UNAVAILABLE', 'rate-limit store unavailable', { cause: err });
    sendError(res, error);
  };

  const apply = (d: RateLimitDecision, res: ServerResponse, next: Next, key: string, bucket: string): void => {
    if (storeDown) {
      storeDown = false;
      o.logger.info(`fleetgate rate limit: ${store.name} store answers again`);
    }
    if (o.headers) {
      res.setHeader('RateLimit-Limit', String(d.limit));
      res.setHeader('RateLimit-Remaining', String(d.remaining));
      res.setHeader('RateLimit-Reset', String(Math.ceil(d.resetMs / 1000)));
    }
    if (d.allowed) {
      publish('allowed', key, bucket);
      next();
      return;
    }
    publish('limited', key, bucket);
    const retryAfter = Number.isFinite(d.retryAfterMs) ? Math.max(1, Math.ceil(d.retryAfterMs / 1000)) : undefined;
    if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
    const error = new FleetgateError('ERR_FG_RATE_LIMITED', 'rate limit exceeded', {
      details: { limit: d.limit, retry_after_s: retryAfter ?? null },
    });
    sendError(res, error);
  };

  const middleware = (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    if (o.skip?.(req)) {
      next();
      return;
    }
    let bucket = 'default';
    let config = fallback;
    if (routes.length > 0) {
      // A path the proxy refuses (400) matches no route and counts against the default limit.
      const norm = normalizePath(req.url ?? '/');
      const segments = isPathFailure(norm) ? undefined : splitSegments(norm.path);
      const method = normalizeMethod(req.method);
      for (const r of routes) {
        if (segments === undefined) break;
        if (routeAcceptsMethod(r.method, method) && matchSegments(r.compiled, segments) !== undefined) {
          bucket = r.id;
          config = r.config;
          break;
        }
      }
    }
    if (config === undefined) {
      next();
      return;
    }
    const key = `${bucket}|${keyOf(req)}`;
    let result: RateLimitDecision | Promise<RateLimitDecision>;
    try {
      result = store.take(key, config, 1);
    } catch (err) {
      onStoreFailure(err, res, next, key, bucket);
      return;
    }
    if (!isThenable(result)) {
      apply(result, res, next, key, bucket);
      return;
    }
    let settled = false;
    const timer = o.clock.setTimeout(() => {
      if (settled) return;
      settled = true;
      onStoreFailure(new Error(`no answer within ${o.storeTimeoutMs} ms`), res, next, key, bucket);
    }, o.storeTimeoutMs);
    result.then(
      (d) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        apply(d, res, next, key, bucket);
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        onStoreFailure(err, res, next, key, bucket);
      },
    );
  };

  const close = async (): Promise<void> => {
    if (ownsStore) await store.close();
  };
  return Object.assign(middleware, { store, close, [Symbol.asyncDispose]: close });
}

function defaultLimit(o: RateLimitOptions): BucketConfig | undefined {
  if (o.limit !== undefined || o.window !== undefined) {
    return toBucketConfig({ limit: o.limit as number, window: o.window as string });
  }
  if (o.capacity !== undefined || o.refillPerSecond !== undefined) {
    return toBucketConfig({ capacity: o.capacity as number, refillPerSecond: o.refillPerSecond as number });
  }
  return undefined;
}

function compileRoute(route: RouteLimit, i: number): CompiledRoute {
  const method = normalizeMethod(route.method);
  let compiled: CompiledPattern;
  try {
    compiled = compilePattern(route.path);
  } catch (err) {
    throw new FleetgateError('ERR_FG_INVALID_CONFIG', `rateLimit routes[${i}]: ${(err as Error).message}`, {
      details: { option: `routes[${i}].path`, value: route.path },
    });
  }
  return {
    id: route.id ?? `${method} ${route.path}`,
    method,
    compiled,
    config: toBucketConfig(route, `rateLimit routes[${i}]`),
  };
}

function invalid(option: string, value: unknown): never {
  throw new FleetgateError('ERR_FG_INVALID_CONFIG', `rateLimit: invalid ${option} ${JSON.stringify(value)}`, {
    details: { option, value },
  });
}

function isThenable<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown }).then === 'function';
}
