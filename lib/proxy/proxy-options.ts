/**
 * Options of {@link import('./discovery-proxy.js').discoveryProxy}: one frozen DEFAULTS object,
 * merged with what the caller gives (undefined means "default"), validated up front.
 */

import type { ConnectionOptions } from 'node:tls';
import { type Clock, realClock } from '../clock.js';
import type { TrustProxy } from '../core/client-address.js';
import { mergeDefined } from '../core/options-merge.js';
import { FleetgateError } from '../errors.js';
import { type Logger, noopLogger } from '../logger.js';
import type { RegistryApi } from '../registry/registry-api.js';
import { BALANCER_NAMES, type BalancerName, type VersionWeights } from '../routing/balancers/index.js';
import type { StaticRoute } from '../routing/types.js';
import type { AccessLog } from '../telemetry/access-log.js';
import { OUTLIER_DEFAULTS, type OutlierOptions } from '../upstream/outlier-detector.js';
import { upstreamHeaderOptions } from '../upstream/proxy-headers.js';
import { type UpstreamTlsOptions, upstreamTlsOptions } from '../upstream/upstream-tls.js';
import { DEFAULT_MAX_HOPS, PROCESS_GATEWAY_ID } from '../upstream/via.js';
import type { WebSocketGatewayOptions } from '../websocket/websocket-options.js';
import { BREAKER_DEFAULTS, type BreakerOptions } from './circuit-breakers.js';
import type { ProxyMetricsSink } from './proxy-metrics-sink.js';
import { RETRY_DEFAULTS, type RetryOptions } from './retry-policy.js';

/**
 * What the proxy's `websocket` option may set; registry, tables, signals, clock, logger and
 * upstream TLS are the proxy's.
 */
export type ProxyWebSocketOptions = Partial<
  Omit<
    WebSocketGatewayOptions,
    | 'registry'
    | 'routeTable'
    | 'signals'
    | 'clock'
    | 'logger'
    | 'upstreamTls'
    | 'metrics'
    | 'trustProxy'
    | 'gatewayId'
    | 'maxHops'
  >
>;

/** Where the sticky balancer finds a request's key. */
export interface StickyOptions {
  /** Cookie whose value keys the request, e.g. `sid`. */
  cookie?: string;
  /** Header whose value keys the request, e.g. `x-session-id` (tried before the cookie). */
  header?: string;
}

export type { ProxyMetricsSink } from './proxy-metrics-sink.js';

/** Options of the discovery proxy. */
export interface DiscoveryProxyOptions {
  /** The registry to route from. When absent one is created from the environment on first use, and owned. */
  registry: RegistryApi | undefined;
  /** Gateway routes, matched first, never overridden by registrations. @default [] */
  staticRoutes: readonly StaticRoute[];
  /** Route `/{service}/rest` to `service` when no pattern matches. @default true */
  nameRouting: boolean;
  /**
   * This gateway's name for route targeting (`GATEWAY_NAME`): routes that list `gateways` are
   * served only by the gateways named there. @default undefined (only routes that list none)
   */
  gatewayName: string | undefined;
  /** Balancing strategy. @default 'round-robin' ('sticky' when `sticky` is given) */
  balancer: BalancerName;
  /** Sticky sessions by cookie or header; implies the sticky balancer. @default undefined */
  sticky: StickyOptions | undefined;
  /**
   * Canary splits by version, per service: `{ comments: { '2.0.0': 5, '1.4.2': 95 } }`; implies
   * the weighted balancer. @default undefined (split by instance `weight`)
   */
  versionWeights: VersionWeights | undefined;
  /** TCP/TLS connect timeout per attempt, in ms. @default 2000 */
  connectTimeoutMs: number;
  /** Time to wait for the upstream's response headers, in ms; `RouteSpec.timeoutMs` overrides it. @default 30000 */
  timeoutMs: number;
  /** Idle keep-alive time of upstream connections, in ms. @default 4000 */
  keepAliveTimeoutMs: number;
  /**
   * TLS towards `https:`/`wss:` instances, for HTTP and WebSockets alike: extra CAs, a client
   * certificate for mutual TLS. @default Node's CA store (which `NODE_EXTRA_CA_CERTS` extends)
   */
  upstreamTls: UpstreamTlsOptions | undefined;
  /** Send the client's Host header upstream (else the instance's host; the original goes in X-Forwarded-Host). @default false */
  preserveHost: boolean;
  /**
   * The proxies in front of the gateway (CIDRs or `loopback`/`private`/`linklocal`;
   * `TRUSTED_PROXIES` in the bin): their `X-Forwarded-*`, `Forwarded` and `X-Real-IP` are extended
   * and passed on; everyone else's are replaced by what the gateway saw (docs/forwarded-headers.md).
   * @default false (nobody)
   */
  trustProxy: TrustProxy;
  /**
   * This gateway's name in `Via`; a request already carrying it is a loop and gets 508
   * `ERR_FG_LOOP_DETECTED`. A token of at most 64 characters (`GATEWAY_NAME` in the bin).
   * @default a random id per process, `fleetgate-<10 hex>`
   */
  gatewayId: string;
  /** A request already carrying this many `Via` entries is refused with 508 (`GATEWAY_MAX_HOPS`). @default 10 */
  maxHops: number;
  /**
   * Methods answered 405 `ERR_FG_METHOD_NOT_ALLOWED` instead of being forwarded; `[]` forwards
   * everything. (`CONNECT` never reaches a `request` handler in node:http; the bin answers it 405.)
   * @default ['TRACE', 'CONNECT']
   */
  refuseMethods: readonly string[];
  /** Retries and the retry budget. @default RETRY_DEFAULTS */
  retries: Partial<RetryOptions>;
  /** Passive outlier ejection. @default OUTLIER_DEFAULTS */
  outlier: Partial<
    Pick<OutlierOptions, 'consecutiveFailures' | 'consecutiveConnectFailures' | 'baseEjectionMs' | 'maxEjectionMs'>
  >;
  /** Per-instance circuit breakers. @default BREAKER_DEFAULTS */
  breaker: Partial<Pick<BreakerOptions, 'consecutiveFailures' | 'halfOpenAfterMs'>>;
  /**
   * Panic mode, opt-in (`PANIC_THRESHOLD` in the bin): when fewer than this share of a route's live
   * instances are healthy, spread over the DOWN and ejected ones too (Envoy's panic routing). `0`
   * is off: an instance DOWN by health checks never takes traffic and a service with no healthy
   * instance answers 503 at once (furt). When on, `explain`, `/health` and the
   * `fleetgate_panic_routing_total` metric report it. @default 0
   */
  panicThreshold: number;
  /** @default realClock */
  clock: Clock;
  /** @default noopLogger */
  logger: Logger;
  /**
   * Receives one record per request (service, route pattern, status, duration), retries, loops,
   * breaker states and the WebSocket gateway's counts (lib/proxy/proxy-metrics-sink.ts). @default undefined
   */
  metrics: ProxyMetricsSink | undefined;
  /**
   * One access-log line per proxied request: `createAccessLog({ logger, sampleRate })`
   * (lib/telemetry/access-log.ts). @default undefined (off)
   */
  accessLog: AccessLog | undefined;
  /**
   * One OpenTelemetry span per proxied request (lib/telemetry/tracing.ts), continuing the caller's
   * trace and propagated upstream; turn on when a tracer provider is registered (`TRACE_URL`). @default false
   */
  tracing: boolean;
  /**
   * What to do when no route matches: `'next'` hands the request to the next middleware, `'404'`
   * answers `ERR_FG_NO_ROUTE`. @default 'next' when a `next` callback is given (Express, Connect), else '404'
   */
  onNoMatch: 'next' | '404' | undefined;
  /**
   * WebSocket upgrade proxying and message routing (lib/websocket), or `false`. The proxy attaches
   * itself to the HTTP server on the first request it sees there; call `proxy.attach(server)` when
   * an upgrade may come before any HTTP request. @default {}
   */
  websocket: ProxyWebSocketOptions | false;
  /**
   * Inside Express served by `http.createServer(app)` or `app.listen()`: on the first request the
   * proxy sees on a server, give that server the request/response classes `createExpressServer(app)`
   * would have (lib/http/express-server.ts `adoptExpressClasses`), so Express's per-request
   * prototype swap stops costing CPU for every later request. Nothing else changes; `false` leaves
   * the server as it is. @default true
   */
  adoptServerClasses: boolean;
}

/** Defaults of {@link DiscoveryProxyOptions}. Frozen. */
export const DISCOVERY_PROXY_DEFAULTS: Readonly<DiscoveryProxyOptions> = Object.freeze({
  registry: undefined,
  staticRoutes: Object.freeze([]) as readonly StaticRoute[],
  nameRouting: true,
  gatewayName: undefined,
  balancer: 'round-robin',
  sticky: undefined,
  versionWeights: undefined,
  connectTimeoutMs: 2000,
  timeoutMs: 30_000,
  keepAliveTimeoutMs: 4000,
  upstreamTls: undefined,
  preserveHost: false,
  trustProxy: false,
  gatewayId: PROCESS_GATEWAY_ID,
  maxHops: DEFAULT_MAX_HOPS,
  refuseMethods: Object.freeze(['TRACE', 'CONNECT']),
  retries: RETRY_DEFAULTS,
  outlier: Object.freeze({
    consecutiveFailures: OUTLIER_DEFAULTS.consecutiveFailures,
    consecutiveConnectFailures: OUTLIER_DEFAULTS.consecutiveConnectFailures,
    baseEjectionMs: OUTLIER_DEFAULTS.baseEjectionMs,
    maxEjectionMs: OUTLIER_DEFAULTS.maxEjectionMs,
  }),
  breaker: Object.freeze({
    consecutiveFailures: BREAKER_DEFAULTS.consecutiveFailures,
    halfOpenAfterMs: BREAKER_DEFAULTS.halfOpenAfterMs,
  }),
  panicThreshold: 0,
  clock: realClock,
  logger: noopLogger,
  metrics: undefined,
  accessLog: undefined,
  tracing: false,
  onNoMatch: undefined,
  websocket: Object.freeze({}),
  adoptServerClasses: true,
} satisfies DiscoveryProxyOptions);

/** Options after merging: nested groups complete, TLS loaded. */
export interface ResolvedProxyOptions extends DiscoveryProxyOptions {
  /** `upstreamTls` checked and loaded, to spread into TLS connects; `undefined` for Node's defaults. */
  tlsConnect: ConnectionOptions | undefined;
  retries: RetryOptions;
  outlier: Required<DiscoveryProxyOptions['outlier']>;
  breaker: Required<DiscoveryProxyOptions['breaker']>;
}

function invalid(message: string): never {
  throw new FleetgateError('ERR_FG_INVALID_CONFIG', `discoveryProxy: ${message}`);
}

/**
 * Merges `options` over {@link DISCOVERY_PROXY_DEFAULTS} and validates them.
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` naming the bad option.
 */
export function resolveProxyOptions(options: Partial<DiscoveryProxyOptions> = {}): ResolvedProxyOptions {
  const d = DISCOVERY_PROXY_DEFAULTS;
  const top = mergeDefined(d, options) as DiscoveryProxyOptions;
  const opts: ResolvedProxyOptions = {
    ...top,
    tlsConnect: upstreamTlsOptions(top.upstreamTls, 'discoveryProxy'),
    retries: mergeDefined(RETRY_DEFAULTS, options.retries),
    outlier: mergeDefined(d.outlier as Required<DiscoveryProxyOptions['outlier']>, options.outlier),
    breaker: mergeDefined(d.breaker as Required<DiscoveryProxyOptions['breaker']>, options.breaker),
  };
  if (options.sticky !== undefined && options.balancer === undefined) opts.balancer = 'sticky';
  if (options.versionWeights !== undefined && options.balancer === undefined) opts.balancer = 'weighted';
  if (!BALANCER_NAMES.includes(opts.balancer)) invalid(`balancer must be one of ${BALANCER_NAMES.join(', ')}`);
  for (const k of ['connectTimeoutMs', 'timeoutMs', 'keepAliveTimeoutMs'] as const) {
    if (!(Number.isFinite(opts[k]) && opts[k] > 0)) invalid(`${k} must be a positive number of ms, got ${opts[k]}`);
  }
  if (!(Number.isFinite(opts.panicThreshold) && opts.panicThreshold >= 0 && opts.panicThreshold <= 1))
    invalid(`panicThreshold must be a number in [0, 1] (0 is off), got ${opts.panicThreshold}`);
  const r = opts.retries;
  if (!Number.isInteger(r.attempts) || r.attempts < 0) invalid(`retries.attempts must be an integer ≥ 0`);
  if (!(r.budgetRatio >= 0 && r.budgetRatio <= 1)) invalid(`retries.budgetRatio must be in [0, 1]`);
  if (!(r.minRetriesPerSecond >= 0)) invalid(`retries.minRetriesPerSecond must be ≥ 0`);
  if (!(r.budgetWindowMs >= 1000)) invalid(`retries.budgetWindowMs must be ≥ 1000`);
  if (!(Number.isInteger(r.bufferLimitBytes) && r.bufferLimitBytes >= 0))
    invalid(`retries.bufferLimitBytes must be ≥ 0`);
  if (opts.onNoMatch !== undefined && opts.onNoMatch !== 'next' && opts.onNoMatch !== '404') {
    invalid(`onNoMatch must be 'next' or '404'`);
  }
  const s = opts.sticky;
  if (s !== undefined) {
    if (s.cookie === undefined && s.header === undefined) invalid('sticky needs a cookie or a header name');
    for (const name of [s.cookie, s.header]) {
      if (name !== undefined && (typeof name !== 'string' || name.trim() === ''))
        invalid('sticky names must be non-empty');
    }
  }
  if (!Array.isArray(opts.staticRoutes)) invalid('staticRoutes must be an array');
  if (!Array.isArray(opts.refuseMethods) || !opts.refuseMethods.every((m) => typeof m === 'string'))
    invalid('refuseMethods must be an array of method names');
  // Throws ERR_FG_INVALID_CONFIG naming gatewayId, maxHops or trustProxy.
  upstreamHeaderOptions(opts);
  const vw = opts.versionWeights;
  if (vw !== undefined) {
    if (opts.balancer !== 'weighted') invalid(`versionWeights needs the weighted balancer, got ${opts.balancer}`);
    if (typeof vw !== 'object' || vw === null)
      invalid('versionWeights must be an object of service → { version: share }');
    for (const [service, shares] of Object.entries(vw)) {
      if (typeof shares !== 'object' || shares === null)
        invalid(`versionWeights.${service} must be { version: share }`);
      for (const [version, share] of Object.entries(shares)) {
        if (!(Number.isFinite(share) && share >= 0)) {
          invalid(`versionWeights.${service}["${version}"] must be a number ≥ 0, got ${String(share)}`);
        }
      }
    }
  }
  return opts;
}
