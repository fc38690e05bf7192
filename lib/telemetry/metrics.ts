/**
 * Prometheus metrics on a prom-client Registry of fleetgate's own (never the global default, so
 * an application's metrics and several gateways in one process never collide), plus the
 * `GET /metrics` middleware. README "Registration API", README "Health, metrics, rate limits, tracing".
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { mergeDefined } from '../core/options-merge.js';
import { FleetgateError } from '../errors.js';
import type { ProxyRequestRecord } from '../proxy/proxy-metrics-sink.js';
import { INSTANCE_STATUSES } from '../registry/model.js';
import type { RegistryApi, RegistryChange, StoreState } from '../registry/registry-api.js';
import type { DroppedFrameRecord } from '../websocket/dropped-frames.js';
import { FastCounter, FastHistogram } from './fast-series.js';
import { FollowedRegistry } from './followed-registry.js';
import { RequestSeries } from './request-series.js';
import { type ResilienceRecorder, resilienceMetrics } from './resilience-metrics.js';
import { storeMetrics } from './store-metrics.js';
import { type WebSocketRecorder, websocketMetrics } from './websocket-metrics.js';

export type { ProxyRequestRecord } from '../proxy/proxy-metrics-sink.js';

/** Something that announces health transitions (a {@link import('../health/health-checker.js').HealthChecker}). */
export interface TransitionSource {
  on(event: 'transition', listener: (t: { service: string; from: string; to: string }) => void): unknown;
  off(event: 'transition', listener: (t: { service: string; from: string; to: string }) => void): unknown;
}

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /**
   * Registry to count events of and to report instance counts and store health from on every
   * scrape. When absent, the process-wide default registry that zero-argument `registry()`,
   * `discoveryProxy()` and `websocketGateway()` share, once one of them has created it: metrics
   * never create it, nor keep it open (docs/metrics.md, "Which registry"). @default undefined
   */
  registry: RegistryApi | undefined;
  /** Health checker whose transitions are counted. @default undefined */
  checker: TransitionSource | undefined;
  /** Path answered by {@link FleetgateMetrics.handler}. @default '/metrics' */
  path: string;
  /** Histogram buckets of `fleetgate_upstream_duration_seconds` and its per-route twin. @default [0.001 … 10] */
  buckets: readonly number[];
  /**
   * Most (service, route pattern) pairs with their own series; later pairs are counted under the
   * route `(other)` of their service. @default 2000
   */
  maxRouteSeries: number;
  /** Also collect Node process metrics (`process_*`, `nodejs_*`) into the same registry. @default false */
  defaultMetrics: boolean;
}

/** Defaults of {@link MetricsOptions}. Frozen. */
export const METRICS_DEFAULTS: Readonly<MetricsOptions> = Object.freeze({
  registry: undefined,
  checker: undefined,
  path: '/metrics',
  buckets: Object.freeze([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
  maxRouteSeries: 2000,
  defaultMetrics: false,
});

/**
 * The metrics of one gateway. It is the sink of every part that reports: pass it as
 * `discoveryProxy({ metrics })` (requests, retries, loops, breakers, WebSockets),
 * `apiKeys({ metrics })`/`jwtAuth({ metrics })` (refusals) and `registry({ metrics })` (self-targets).
 */
export interface FleetgateMetrics extends AsyncDisposable, WebSocketRecorder, ResilienceRecorder {
  /** The prom-client registry holding every fleetgate metric. */
  readonly promRegistry: Registry;
  /** Counts a proxied request and observes its duration per service and per route pattern. */
  recordProxyRequest(record: ProxyRequestRecord): void;
  /** Counts a request routed in panic mode (opt-in `panicThreshold`), by service. */
  recordPanicRouting(service: string): void;
  /** Counts a health transition (done automatically for the `checker` option). */
  recordHealthTransition(service: string, from: string, to: string): void;
  /** Counts a rate-limit decision; pass it as `rateLimit({ onDecision })`. */
  recordRateLimitDecision(decision: string): void;
  /** Counts a registry event (done automatically for the `registry` option). */
  recordRegistryEvent(type: string): void;
  /** Counts a WebSocket message frame the gateway dropped instead of relaying (a forged reply, …). */
  recordDroppedFrame(record: DroppedFrameRecord): void;
  /** The Prometheus text exposition. */
  metrics(): Promise<string>;
  /** Middleware answering `GET /metrics` (the configured path); anything else goes to `next`. */
  handler(): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;
  /** Detaches from the registry and checker. Idempotent. */
  close(): Promise<void>;
}

/**
 * Creates the gateway's metrics.
 * @example
 * const metrics = createMetrics({ registry, checker });
 * app.use(metrics.handler());
 * app.use(rateLimit({ limit: 100, window: '1m', onDecision: metrics.recordRateLimitDecision }));
 */
export function createMetrics(options: Partial<MetricsOptions> = {}): FleetgateMetrics {
  const o: MetricsOptions = mergeDefined(METRICS_DEFAULTS, options);
  if (!(Number.isInteger(o.maxRouteSeries) && o.maxRouteSeries >= 1)) {
    throw new FleetgateError('ERR_FG_INVALID_CONFIG', `createMetrics: maxRouteSeries must be an integer ≥ 1`);
  }
  const promRegistry = new Registry();
  const registers = [promRegistry];

  const series = new RequestSeries(
    new FastCounter(
      'fleetgate_requests_total',
      'Requests handled by the gateway, by service, route pattern and status.',
      ['service', 'route', 'status'],
      promRegistry,
    ),
    new FastHistogram(
      'fleetgate_upstream_duration_seconds',
      'Time from a request’s arrival to its end, for requests that reached an upstream, by service.',
      ['service'],
      o.buckets,
      promRegistry,
    ),
    new FastHistogram(
      'fleetgate_route_upstream_duration_seconds',
      'Time from a request’s arrival to its end, for requests that reached an upstream, by service and route pattern (capped by maxRouteSeries; the rest under route="(other)").',
      ['service', 'route'],
      o.buckets,
      promRegistry,
    ),
    o.maxRouteSeries,
  );
  new Gauge({
    name: 'fleetgate_instances',
    help: 'Live registered instances, by service and status (read from the registry at scrape time).',
    labelNames: ['service', 'status'] as const,
    registers,
    collect() {
      this.reset();
      const registry = followed.current();
      if (registry === undefined) return;
      const counts = new Map<string, Map<string, number>>();
      for (const inst of registry.instances()) {
        let byStatus = counts.get(inst.service);
        if (byStatus === undefined) {
          byStatus = new Map(INSTANCE_STATUSES.map((s) => [s, 0]));
          counts.set(inst.service, byStatus);
        }
        byStatus.set(inst.status, (byStatus.get(inst.status) ?? 0) + 1);
      }
      for (const [service, byStatus] of counts) for (const [status, n] of byStatus) this.set({ service, status }, n);
    },
  });
  storeMetrics(promRegistry, () => followed.current());
  const transitions = new Counter({
    name: 'fleetgate_health_transitions_total',
    help: 'Health status transitions, by service.',
    labelNames: ['service', 'from', 'to'] as const,
    registers,
  });
  const decisions = new Counter({
    name: 'fleetgate_ratelimit_decisions_total',
    help: 'Rate-limit decisions: allowed, limited, fail_open, fail_closed.',
    labelNames: ['decision'] as const,
    registers,
  });
  const panics = new Counter({
    name: 'fleetgate_panic_routing_total',
    help: 'Requests routed in panic mode (panicThreshold on, too few healthy instances), by service.',
    labelNames: ['service'] as const,
    registers,
  });
  const events = new Counter({
    name: 'fleetgate_registry_events_total',
    help: 'Registry changes seen by this gateway, by type.',
    labelNames: ['type'] as const,
    registers,
  });
  const storeTransitions = new Counter({
    name: 'fleetgate_registry_store_transitions_total',
    help: 'Registry store state transitions (down, resyncing, up), by the state entered.',
    labelNames: ['to'] as const,
    registers,
  });
  const droppedFrames = new Counter({
    name: 'fleetgate_ws_frames_dropped_total',
    help: 'WebSocket message frames dropped instead of relayed: forged_reply, unknown_reply, malformed.',
    labelNames: ['service', 'reason'] as const,
    registers,
  });
  const websocket = websocketMetrics(promRegistry);
  const resilience = resilienceMetrics(promRegistry);
  if (o.defaultMetrics) collectDefaultMetrics({ register: promRegistry });

  const recordRegistryEvent = (type: string): void => events.inc({ type });
  const recordHealthTransition = (service: string, from: string, to: string): void =>
    transitions.inc({ service, from, to });
  const onChange = (c: RegistryChange): void => recordRegistryEvent(c.type);
  const onTransition = (t: { service: string; from: string; to: string }): void =>
    recordHealthTransition(t.service, t.from, t.to);
  const onStoreState = (s: StoreState): void => storeTransitions.inc({ to: s.state });
  // The given registry, or the default one once it exists (looked up at every scrape).
  const followed = new FollowedRegistry(o.registry, { onChange, onStoreState });
  o.checker?.on('transition', onTransition);
  let closed = false;

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    followed.close();
    o.checker?.off('transition', onTransition);
  };

  return {
    promRegistry,
    recordProxyRequest: (r) => series.record(r.service, r.route, r.status, r.durationMs),
    recordPanicRouting: (service) => panics.inc({ service }),
    recordHealthTransition,
    recordRateLimitDecision: (decision) => decisions.inc({ decision }),
    recordRegistryEvent,
    recordDroppedFrame: (r) => droppedFrames.inc({ service: r.service, reason: r.reason }),
    ...websocket,
    ...resilience,
    metrics: () => promRegistry.metrics(),
    handler() {
      return (req, res, next) => {
        const q = req.url?.indexOf('?') ?? -1;
        const path = q === -1 ? req.url : req.url?.slice(0, q);
        if (path !== o.path || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
        promRegistry.metrics().then(
          (text) => {
            res.statusCode = 200;
            res.setHeader('Content-Type', promRegistry.contentType);
            res.setHeader('Cache-Control', 'no-store');
            res.end(req.method === 'HEAD' ? undefined : text);
          },
          (err: unknown) => next(err),
        );
      };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
