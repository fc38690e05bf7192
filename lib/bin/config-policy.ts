/**
 * What a `fleetgate.yaml` turns into at run time, built as one unit so a reload swaps all of it
 * or none: the static routes and the middleware chain (securityHeaders() → cors() → jwtAuth() →
 * apiKeys() → rate limits: global, per route, per key class), in the order docs/config-file.md
 * gives: headers on every answer, refusals included; preflights answered before credentials are asked. Building validates
 * everything (routes, predicates, keys, JWT keys) before anything is swapped in.
 */
import { Redis } from 'ioredis';
import { type ApiKeysMiddleware, apiKeyOf, apiKeys } from '../auth/api-keys.js';
import { type JwtAuthMiddleware, jwtAuth } from '../auth/jwt-auth.js';
import type { Clock } from '../clock.js';
import type { ConfigFile } from '../config/file/config-schema.js';
import { compose, type Middleware } from '../http/compose.js';
import type { Logger } from '../logger.js';
import { type RateLimitMiddleware, type RouteLimit, rateLimit } from '../ratelimit/rate-limit.js';
import { RedisStore } from '../ratelimit/redis-store.js';
import type { RateLimitStore } from '../ratelimit/store.js';
import type { RouteSource } from '../routing/request-resolution.js';
import type { StaticRoute } from '../routing/types.js';
import { type CorsOptions, cors } from '../security/cors.js';
import { type SecurityHeadersOptions, securityHeaders } from '../security/security-headers.js';
import type { FleetgateMetrics } from '../telemetry/metrics.js';

/** A built configuration: apply its routes, run its chain, close it once replaced. */
export interface ConfigPolicy {
  readonly staticRoutes: readonly StaticRoute[];
  /** The configured middlewares as one; passes on when there are none. */
  readonly middleware: Middleware;
  /** Names of the parts in chain order, for logs (`jwt`, `apiKeys`, `rateLimit:global`, …). */
  readonly parts: readonly string[];
  /** Releases what the policy created (Redis connections, memory stores). */
  close(): Promise<void>;
}

/** What building a policy needs from the gateway. */
export interface PolicyContext {
  /** The proxy, whose route table the auth middlewares judge routes by. */
  routes: RouteSource;
  clock: Clock;
  logger: Logger;
  /** `TRUSTED_PROXIES`, for client addresses in failure counting and IP rate limits. */
  trustProxy: readonly string[];
  /** Where auth refusals and rate-limit decisions are counted (the gateway's metrics). */
  metrics?: Pick<FleetgateMetrics, 'recordAuthRejection' | 'recordRateLimitDecision'>;
}

/**
 * Builds the policy of `config`.
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` naming the option.
 * @example const policy = buildPolicy(config, { routes: gateway.proxy!, clock: realClock, logger, trustProxy: [] });
 */
export function buildPolicy(config: ConfigFile, ctx: PolicyContext): ConfigPolicy {
  const chain: Middleware[] = [];
  const parts: string[] = [];
  const closers: (() => Promise<void>)[] = [];
  const trustProxy: false | string[] = ctx.trustProxy.length === 0 ? false : [...ctx.trustProxy];
  try {
    // On unless the file says `securityHeaders: false`.
    if (config.securityHeaders !== false) {
      chain.push(
        securityHeaders({
          ...((config.securityHeaders ?? {}) as Partial<SecurityHeadersOptions>),
          ...(trustProxy === false ? {} : { trustProxy }),
        }),
      );
      parts.push('securityHeaders');
    }
    if (config.cors !== undefined && config.cors !== false) {
      chain.push(cors({ ...(config.cors as Partial<CorsOptions>), routes: ctx.routes }));
      parts.push('cors');
    }
    if (config.jwt !== undefined) {
      const j = config.jwt;
      // With API keys in the file, the key is the credential: a route's permission is the key's to
      // check and a token is optional (still verified when sent). The file can say otherwise.
      const keysDecide = config.apiKeys !== undefined ? false : undefined;
      const jwt: JwtAuthMiddleware = jwtAuth({
        ...defined({
          jwksUrl: j.jwksUrl,
          publicKey: j.publicKey,
          secret: j.secret,
          algorithms: j.algorithms,
          issuer: j.issuer,
          audience: j.audience,
          clockSkewMs: j.clockSkew,
          required: j.required ?? keysDecide,
          permissionAs: j.permissionAs ?? keysDecide,
          scopeClaim: j.scopeClaim,
          rolesClaim: j.rolesClaim,
          relayToken: j.relayToken,
          claimHeaders: j.claimHeaders,
          jwksMinRefreshIntervalMs: j.jwksMinRefreshInterval,
          routeRequirements: j.routeRequirements,
        }),
        routes: ctx.routes,
        clock: ctx.clock,
        logger: ctx.logger,
        metrics: ctx.metrics,
      });
      chain.push(jwt);
      parts.push('jwt');
    }
    if (config.apiKeys !== undefined) {
      const k = config.apiKeys;
      const keys: ApiKeysMiddleware = apiKeys({
        ...defined({
          keys: k.keys,
          file: k.file,
          header: k.header,
          authorizationScheme: k.authorizationScheme,
          required: k.required,
          nameHeader: k.nameHeader,
          stripCredential: k.stripCredential,
        }),
        routes: ctx.routes,
        trustProxy,
        clock: ctx.clock,
        logger: ctx.logger,
        metrics: ctx.metrics,
      });
      closers.push(() => keys.close());
      chain.push(keys);
      parts.push('apiKeys');
    }
    const rl = config.rateLimits;
    if (rl !== undefined && (rl.global !== undefined || rl.routes !== undefined || rl.classes !== undefined)) {
      let store: RateLimitStore | undefined;
      if (rl.store === 'redis') {
        if (rl.redisUrl === undefined) throw new Error('rateLimits.redisUrl is needed with store: redis');
        const client = new Redis(rl.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 });
        closers.push(async () => {
          client.disconnect();
        });
        store = new RedisStore(client);
      }
      const common = {
        ...defined({ failMode: rl.failMode, store }),
        trustProxy,
        clock: ctx.clock,
        logger: ctx.logger,
        // Skipped requests (another key class's limiter) make no decision and are not counted.
        ...(ctx.metrics === undefined ? {} : { onDecision: ctx.metrics.recordRateLimitDecision }),
      };
      const add = (name: string, limiter: RateLimitMiddleware): void => {
        closers.push(() => limiter.close());
        chain.push(limiter);
        parts.push(name);
      };
      if (rl.global !== undefined || rl.routes !== undefined) {
        add(
          'rateLimit',
          rateLimit({
            ...common,
            ...defined(rl.global ?? {}),
            key: rl.key ?? 'ip',
            // The limit shape (limit+window or capacity+refill) is checked by rateLimit() itself.
            routes: (rl.routes ?? []).map((r) => defined(r) as RouteLimit),
          }),
        );
      }
      for (const [cls, lim] of Object.entries(rl.classes ?? {})) {
        add(
          `rateLimit:${cls}`,
          rateLimit({
            ...common,
            ...defined(lim),
            // One bucket per key of the class; requests of other classes (or without a key) pass.
            key: (req) => `key:${apiKeyOf(req)?.name ?? ''}`,
            skip: (req) => apiKeyOf(req)?.rateLimitClass !== cls,
          }),
        );
      }
    }
  } catch (err) {
    void Promise.all(closers.map((c) => c().catch(() => {})));
    throw err;
  }
  const composed = compose(chain);
  const middleware: Middleware =
    chain.length === 0 ? (_req, _res, next) => next() : (req, res, next) => composed(req, res, next);
  let closed: Promise<void> | undefined;
  return {
    staticRoutes: (config.routes ?? []).map(toStaticRoute),
    middleware,
    parts,
    close: () => {
      closed ??= Promise.all(closers.map((c) => c().catch(() => {}))).then(() => {});
      return closed;
    },
  };
}

/** A config-file route as a {@link StaticRoute}. */
export function toStaticRoute(r: NonNullable<ConfigFile['routes']>[number]): StaticRoute {
  return defined({
    path: r.path,
    method: r.method,
    service: r.service,
    target: r.target,
    version: r.version,
    stripPrefix: r.stripPrefix,
    permission: r.permission,
    timeoutMs: r.timeout,
    protocol: r.protocol,
    predicates: r.predicates,
    gateways: r.gateways,
  }) as StaticRoute;
}

/** `o` without its undefined fields (options merge treats absent and undefined alike, types do not). */
function defined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
