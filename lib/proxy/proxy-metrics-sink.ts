/**
 * What the proxy reports to a metrics sink, and the sink's shape. The proxy never imports
 * lib/telemetry: `createMetrics()` (lib/telemetry/metrics.ts) fits this interface, and so does
 * any object with the same methods. Every method but {@link ProxyMetricsSink.recordProxyRequest}
 * is optional.
 */

import type { WebSocketMetricsSink } from '../websocket/websocket-metrics-sink.js';

/** One proxied request, as the proxy reports it. */
export interface ProxyRequestRecord {
  /** Service that served the route; `'-'` when no route matched. */
  service: string;
  /** The matched route pattern (never the raw path: label cardinality must stay bounded). */
  route: string;
  /** HTTP status sent to the client. */
  status: number;
  /** Time from the request's arrival to its end, in ms; omitted when no upstream was reached. */
  durationMs?: number;
  /** The instance that answered (kept out of labels for cardinality; accepted for symmetry with spans). */
  instanceId?: string;
}

/** A circuit breaker's state, as metrics label it. */
export type BreakerStateName = 'closed' | 'open' | 'half_open';

/** Why the proxy retried an attempt on another instance (the first attempt's failure kind). */
export type RetryReason = 'connect' | 'connect-timeout' | 'timeout' | 'reset';

/** Why the gateway refused a request as a loop. */
export type LoopKind =
  /** `Via` already names this gateway (508 `ERR_FG_LOOP_DETECTED`). */
  | 'own_via'
  /** `Via` has `maxHops` entries or more (508 `ERR_FG_LOOP_DETECTED`). */
  | 'max_hops'
  /** A registration whose instance URL is the gateway itself (400 `ERR_FG_SELF_TARGET`). */
  | 'self_target';

/**
 * Where the proxy reports each request, and what its WebSocket gateway reports
 * (lib/websocket/websocket-metrics-sink.ts); `createMetrics()` (lib/telemetry/metrics.ts) fits.
 */
export interface ProxyMetricsSink extends WebSocketMetricsSink {
  recordProxyRequest(record: ProxyRequestRecord): void;
  /** Counts a request routed in panic mode (only ever called when `panicThreshold` is on). */
  recordPanicRouting?(service: string): void;
  /** Counts one retry of a request on another instance. */
  recordRetry?(service: string, reason: RetryReason): void;
  /** A request refused as a loop. */
  recordLoopDetected?(kind: LoopKind): void;
  /** An instance's circuit breaker changed state. */
  recordBreakerState?(service: string, instanceId: string, state: BreakerStateName): void;
  /** An instance's breaker was dropped (the instance left): its series goes away. */
  forgetBreaker?(service: string, instanceId: string): void;
}
