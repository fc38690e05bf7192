/**
 * Prometheus metrics on a prom-client Registry of fleetgate's own (never the global default, so
 * an application's metrics and several gateways in one process never collide), plus the
 * `GET /metrics` middleware. README "Registration API", README "Health, metrics, rate limits, tracing".
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { mergeDefined } from '../core/options-merge.js';
import { INSTANCE_STATUSES } from '../registry/model.js';
import type { RegistryApi, RegistryChange, StoreState } from '../registry/registry-api.js';
import type { DroppedFrameRecord } from '../websocket/dropped-frames.js';

/** One proxied request, as the proxy reports it. */
export interface ProxyRequestRecord {
  /** Service that served the route; `'-'` when no route matched. */
  service: string;
  /** The matched route pattern (never the raw path: label cardinality must stay bounded). */
  route: string;
  /** HTTP status sent to the client. */
  status: number;
  /** Time spent on the upstream exchange, in ms; omitted when no upstream was reached. */
  durationMs?: number;
  /** The instance that answered (kept out of labels for cardinality; accepted for symmetry with spans). */
  instanceId?: string;
}

/** Something that announces health transitions (a {@link import('../health/health-checker.js').HealthChecker}). */
export interface TransitionSource {
  on(event: 'transition', listener: (t: { service: string; from: string; to: string }) => void): unknown;
  off(event: 'transition', listener: (t: { service: string; from: string; to: string }) => void): unknown;
}

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** Registry to count events of and to report instance counts from on every scrape. @default undefined */
  registry: RegistryApi | undefined;
  /** Health checker whose transitions are counted. @default undefined */
  checker: TransitionSource | undefined;
  /** Path answered by {@link FleetgateMetrics.handler}. @default '/metrics' */
  path: string;
  /** Histogram buckets of `fleetgate_upstream_duration_seconds`. @default [0.001 … 10] */
  buckets: readonly number[];
  /** Also collect Node process metrics (`process_*`, `nodejs_*`) into the same registry. @default false */
  defaultMetrics: boolean;
}

/** Defaults of {@link MetricsOptions}. Frozen. */
export const METRICS_DEFAULTS: Readonly<MetricsOptions> = Object.freeze({
  registry: undefined,
  checker: undefined,
  path: '/metrics',
  buckets: Object.freeze([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
  defaultMetrics: false,
});

/** The metrics of one gateway. */
export interface FleetgateMetrics extends AsyncDisposable {
  /** The prom-client registry holding every fleetgate metric. */
  readonly promRegistry: Registry;
  /** Counts a proxied request and observes its upstream duration. */
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
  const promRegistry = new Registry();
  const registers = [promRegistry];
  const registry = o.registry;

  const requests = new Counter({
    name: 'fleetgate_requests_total',
    help: 'Requests handled by the gateway, by service, route pattern and status.',
    labelNames: ['service', 'route', 'status'] as const,
    registers,
  });
  const upstream = new Histogram({
    name: 'fleetgate_upstream_duration_seconds',
    help: 'Time spent on upstream exchanges, by service.',
    labelNames: ['service'] as const,
    buckets: [...o.buckets],
    registers,
  });
  new Gauge({
    name: 'fleetgate_instances',
    help: 'Live registered instances, by service and status (read from the registry at scrape time).',
    labelNames: ['service', 'status'] as const,
    registers,
    collect() {
      this.reset();
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
  new Gauge({
    name: 'fleetgate_registry_store_up',
    help: 'Whether the registry store answers and is in sync (1) or not (0), as /health reports it.',
    registers,
    collect() {
      this.set(registry === undefined || registry.health().connected ? 1 : 0);
    },
  });
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
  if (o.defaultMetrics) collectDefaultMetrics({ register: promRegistry });

  const recordRegistryEvent = (type: string): void => events.inc({ type });
  const recordHealthTransition = (service: string, from: string, to: string): void =>
    transitions.inc({ service, from, to });
  const onChange = (c: RegistryChange): void => recordRegistryEvent(c.type);
  const onTransition = (t: { service: string; from: string; to: string }): void =>
    recordHealthTransition(t.service, t.from, t.to);
  const onStoreState = (s: StoreState): void => storeTransitions.inc({ to: s.state });
  registry?.on('change', onChange);
  registry?.on('store-state', onStoreState);
  o.checker?.on('transition', onTransition);
  let closed = false;

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    registry?.off('change', onChange);
    registry?.off('store-state', onStoreState);
    o.checker?.off('transition', onTransition);
  };

  return {
    promRegistry,
    recordProxyRequest(r) {
      requests.inc({ service: r.service, route: r.route, status: String(r.status) });
      if (r.durationMs !== undefined) upstream.observe({ service: r.service }, r.durationMs / 1000);
    },
    recordPanicRouting: (service) => panics.inc({ service }),
    recordHealthTransition,
    recordRateLimitDecision: (decision) => decisions.inc({ decision }),
    recordRegistryEvent,
    recordDroppedFrame: (r) => droppedFrames.inc({ service: r.service, reason: r.reason }),
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
