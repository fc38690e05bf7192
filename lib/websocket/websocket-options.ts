/**
 * Options of {@link import('./websocket-gateway.js').websocketGateway}: one frozen DEFAULTS
 * object, merged with what the caller gives (undefined means "default"), validated up front.
 */
import type { ConnectionOptions } from 'node:tls';
import { type Clock, realClock } from '../clock.js';
import type { TrustProxy } from '../core/client-address.js';
import { mergeDefined } from '../core/options-merge.js';
import { FleetgateError } from '../errors.js';
import { type Logger, noopLogger } from '../logger.js';
import type { RegistryApi } from '../registry/registry-api.js';
import type { BalancerName } from '../routing/balancers/index.js';
import type { RouteTable } from '../routing/route-table.js';
import type { InstanceHealthSignals, StaticRoute } from '../routing/types.js';
import { type UpstreamHeaderOptions, upstreamHeaderOptions } from '../upstream/proxy-headers.js';
import { type UpstreamTlsOptions, upstreamTlsOptions } from '../upstream/upstream-tls.js';
import { DEFAULT_MAX_HOPS, PROCESS_GATEWAY_ID } from '../upstream/via.js';
import type { WebSocketMetricsSink } from './websocket-metrics-sink.js';

/** Balancers that need nothing but the candidates and their live connection counts. */
export type WebSocketBalancerName = Exclude<BalancerName, 'sticky'>;

/** Options of the WebSocket gateway. */
export interface WebSocketGatewayOptions {
  /**
   * The registry to route from. When absent, the process-wide default registry
   * (lib/registry/default-registry.ts), created from the environment on first use and shared with
   * a zero-argument `registry()` and `discoveryProxy()`. @default undefined (the default registry)
   */
  registry: RegistryApi | undefined;
  /**
   * The HTTP route table upgrades are routed with (share the discovery proxy's `routeTable` so both
   * see the same static routes). When absent the gateway builds and owns one. @default undefined
   */
  routeTable: RouteTable | undefined;
  /**
   * Gateway routes: HTTP ones go into the table the gateway builds (ignored when `routeTable` is
   * given); `protocol: 'ws'` ones are message routes, public by definition. @default []
   */
  staticRoutes: readonly StaticRoute[];
  /** Name routing (`/{service}/...`) in the table the gateway builds. @default true */
  nameRouting: boolean;
  /** Balancer for new pins. @default 'least-connections' (by live connections per instance) */
  balancer: WebSocketBalancerName;
  /** Extra passive health (e.g. the HTTP proxy's outlier detector); combined with the gateway's own. @default undefined */
  signals: InstanceHealthSignals | undefined;
  /** Path of the message-routing endpoint, or `false` to route every upgrade as a raw proxy. @default '/ws' */
  messagePath: string | false;
  /** Upstream endpoint of message routing when an instance's `metadata.ws_path` is absent. @default '/ws' */
  upstreamMessagePath: string;
  /** Ping every client (and upstream link) this often; one missed pong terminates it. @default 30000 */
  heartbeatIntervalMs: number;
  /** Time for the upstream to connect and answer `101`; beyond it the client gets `504`. @default 10000 */
  handshakeTimeoutMs: number;
  /** Time a closing connection may take to finish its close handshake before it is destroyed. @default 5000 */
  closeTimeoutMs: number;
  /** Largest message a client may send, in bytes (raw proxy: per message on the wire). @default 65536 */
  maxPayload: number;
  /** Largest message an upstream may send on a message-routing link, in bytes. @default 1048576 */
  upstreamMaxPayload: number;
  /** Messages a client may send per second (token bucket refill); `0` turns the limit off. @default 100 */
  messagesPerSecond: number;
  /** Burst: tokens in a full bucket. @default 2 × messagesPerSecond */
  messageBurst: number | undefined;
  /** Consecutive over-limit messages after which the client is closed with 1008. @default 10 */
  rateLimitStrikes: number;
  /** Attempts on another instance when connecting to the chosen one fails (nothing was sent yet). @default 1 */
  connectRetries: number;
  /** Messages queued per upstream link while it connects; beyond it they are refused. @default 256 */
  maxQueuedMessages: number;
  /** TLS towards `https:`/`wss:` instances (private CA, client certificate). @default Node's CA store */
  upstreamTls: UpstreamTlsOptions | undefined;
  /**
   * Proxies whose `X-Forwarded-*` are extended on upgrades (the shared `trustProxy`,
   * lib/core/client-address.ts); everyone else's are replaced. @default false (nobody)
   */
  trustProxy: TrustProxy;
  /** The gateway's name in `Via`; an upgrade already carrying it gets 508. @default a random id per process */
  gatewayId: string;
  /** Upgrades already carrying this many `Via` entries get 508. @default 10 */
  maxHops: number;
  /** Timer source for heartbeats, handshake and close timeouts. @default realClock */
  clock: Clock;
  /** @default noopLogger */
  logger: Logger;
  /** Where dropped frames, relayed messages, re-pins and live connections are counted (`createMetrics()` fits). @default undefined */
  metrics: WebSocketMetricsSink | undefined;
}

/** Defaults of {@link WebSocketGatewayOptions}. Frozen. */
export const WEBSOCKET_GATEWAY_DEFAULTS: Readonly<Omit<WebSocketGatewayOptions, 'registry'>> = Object.freeze({
  routeTable: undefined,
  staticRoutes: Object.freeze([]) as readonly StaticRoute[],
  nameRouting: true,
  balancer: 'least-connections',
  signals: undefined,
  messagePath: '/ws',
  upstreamMessagePath: '/ws',
  heartbeatIntervalMs: 30_000,
  handshakeTimeoutMs: 10_000,
  closeTimeoutMs: 5000,
  maxPayload: 64 * 1024,
  upstreamMaxPayload: 1024 * 1024,
  messagesPerSecond: 100,
  messageBurst: undefined,
  rateLimitStrikes: 10,
  connectRetries: 1,
  maxQueuedMessages: 256,
  upstreamTls: undefined,
  trustProxy: false,
  gatewayId: PROCESS_GATEWAY_ID,
  maxHops: DEFAULT_MAX_HOPS,
  clock: realClock,
  logger: noopLogger,
  metrics: undefined,
} satisfies Omit<WebSocketGatewayOptions, 'registry'>);

/** Options after merging and validation: the burst and the TLS connect options are resolved. */
export interface ResolvedWebSocketOptions extends WebSocketGatewayOptions {
  messageBurst: number;
  /** `upstreamTls` checked and loaded, to spread into TLS connects; `undefined` for Node's defaults. */
  tlsConnect: ConnectionOptions | undefined;
  /** `trustProxy`, `gatewayId` and `maxHops`, checked: how upgrade requests are forwarded. */
  forwarding: UpstreamHeaderOptions;
}

const BALANCERS: readonly WebSocketBalancerName[] = ['least-connections', 'round-robin', 'weighted'];

function invalid(message: string): never {
  throw new FleetgateError('ERR_FG_INVALID_CONFIG', `websocketGateway: ${message}`);
}

/**
 * Merges `options` over {@link WEBSOCKET_GATEWAY_DEFAULTS} and validates them.
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` naming the bad option.
 */
export function resolveWebSocketOptions(options: Partial<WebSocketGatewayOptions> = {}): ResolvedWebSocketOptions {
  const o = mergeDefined(WEBSOCKET_GATEWAY_DEFAULTS, options) as WebSocketGatewayOptions;
  if (o.registry !== undefined && typeof (o.registry as Partial<RegistryApi> | null)?.instances !== 'function') {
    invalid('registry must be a registry (createRegistry()), or left out for the default one');
  }
  if (!BALANCERS.includes(o.balancer)) invalid(`balancer must be one of ${BALANCERS.join(', ')}`);
  if (o.messagePath !== false && (typeof o.messagePath !== 'string' || !o.messagePath.startsWith('/'))) {
    invalid(`messagePath must be a path starting with "/" or false, got ${String(o.messagePath)}`);
  }
  if (typeof o.upstreamMessagePath !== 'string' || !o.upstreamMessagePath.startsWith('/')) {
    invalid('upstreamMessagePath must be a path starting with "/"');
  }
  for (const k of [
    'heartbeatIntervalMs',
    'handshakeTimeoutMs',
    'closeTimeoutMs',
    'maxPayload',
    'upstreamMaxPayload',
  ] as const) {
    if (!(Number.isFinite(o[k]) && o[k] > 0)) invalid(`${k} must be a positive number, got ${o[k]}`);
  }
  if (!(Number.isFinite(o.messagesPerSecond) && o.messagesPerSecond >= 0)) {
    invalid(`messagesPerSecond must be ≥ 0 (0 = no limit), got ${o.messagesPerSecond}`);
  }
  const burst = o.messageBurst ?? 2 * o.messagesPerSecond;
  if (!(Number.isFinite(burst) && (burst >= 1 || o.messagesPerSecond === 0))) {
    invalid(`messageBurst must be ≥ 1, got ${burst}`);
  }
  for (const k of ['rateLimitStrikes', 'maxQueuedMessages'] as const) {
    if (!(Number.isInteger(o[k]) && o[k] >= 1)) invalid(`${k} must be an integer ≥ 1, got ${o[k]}`);
  }
  if (!(Number.isInteger(o.connectRetries) && o.connectRetries >= 0)) {
    invalid(`connectRetries must be an integer ≥ 0, got ${o.connectRetries}`);
  }
  return {
    ...o,
    messageBurst: burst,
    tlsConnect: upstreamTlsOptions(o.upstreamTls, 'websocketGateway'),
    forwarding: upstreamHeaderOptions({ trustProxy: o.trustProxy, gatewayId: o.gatewayId, maxHops: o.maxHops }),
  };
}
