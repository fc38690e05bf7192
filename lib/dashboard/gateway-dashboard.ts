/**
 * `createGatewayDashboard()`: the live dashboard of a running gateway at `/_fleetgate/`
 * (docs/dashboard.md). Wires the parts of this folder: the request rings fed by the proxy's
 * metrics sink, the registry journal (events, status histories), the snapshot builder, the event
 * stream, and the HTTP endpoint. Mount its middleware behind the operator guard.
 */
import { type Clock, realClock } from '../clock.js';
import type { AdminAccess } from '../http/admin-access.js';
import type { Middleware } from '../http/compose.js';
import type { ProxyMetricsSink } from '../proxy/proxy-metrics-sink.js';
import type { RegistryApi } from '../registry/registry-api.js';
import { dashboardEndpoint } from './dashboard-endpoint.js';
import { EventStream } from './event-stream.js';
import type { DashboardSnapshot } from './page-model.js';
import { RegistryJournal } from './registry-journal.js';
import { RequestStats } from './request-stats.js';
import { buildSnapshot, SNAPSHOT_LIMITS, type SnapshotLimits } from './snapshot-builder.js';

/** Options of {@link createGatewayDashboard}. */
export interface GatewayDashboardOptions {
  registry: RegistryApi;
  /** The gateway's operator check: who may read (the guard) and who is an admin (holds `ADMIN_TOKEN`). */
  admin: Pick<AdminAccess, 'holdsToken' | 'clientAddress' | 'logger'>;
  /** @default realClock */
  clock?: Clock;
  /** The gateway's name, shown in the header. @default undefined */
  gatewayName?: string | undefined;
  /**
   * True once the gateway drains: open streams are ended (within a second) so they do not hold
   * the shutdown grace; the page reconnects to whichever gateway answers. @default () => false
   */
  draining?: () => boolean;
  /** Caps on what a snapshot lists. @default SNAPSHOT_LIMITS */
  limits?: Partial<SnapshotLimits>;
}

/** A gateway's dashboard. */
export interface GatewayDashboard extends AsyncDisposable {
  /** Serves `/_fleetgate/` and its API; anything else goes to `next`. */
  readonly middleware: Middleware;
  /** Counts proxied requests per service (the proxy's completion hook). */
  readonly stats: RequestStats;
  /**
   * The sink to give the proxy: `metrics` with each request also counted for the dashboard (every
   * other method of `metrics` kept as it is).
   */
  sink<M extends ProxyMetricsSink>(metrics: M | undefined): ProxyMetricsSink;
  /** The current snapshot. */
  snapshot(): DashboardSnapshot;
  /** Ends open streams and stops following the registry. Idempotent. */
  close(): Promise<void>;
}

/**
 * @example
 * const dashboard = createGatewayDashboard({ registry, admin, clock });
 * const proxy = discoveryProxy({ registry, metrics: dashboard.sink(metrics) });
 * compose([adminGuard(admin), dashboard.middleware, proxy]);
 */
export function createGatewayDashboard(options: GatewayDashboardOptions): GatewayDashboard {
  const clock = options.clock ?? realClock;
  const limits: SnapshotLimits = { ...SNAPSHOT_LIMITS, ...options.limits };
  const { registry } = options;
  const stats = new RequestStats({ clock, seconds: limits.windowSeconds + 1 });
  const snapshot = (): DashboardSnapshot => buildSnapshot({ registry, stats, journal, meta }, limits, clock.now());
  const stream = new EventStream({ snapshot, clock, ...(options.draining ? { ended: options.draining } : {}) });
  const journal = new RegistryJournal(registry, clock, () => stream.changed());
  const meta = (): string => {
    const health = registry.health();
    const name = options.gatewayName === undefined ? '' : ` · gateway ${options.gatewayName}`;
    const store = health.connected ? '' : ' (store disconnected)';
    return `${health.type} registry${store}${name}`;
  };
  const middleware = dashboardEndpoint({ registry, admin: options.admin, stream, snapshot });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    journal.close();
    stream.close();
  };
  return {
    middleware,
    stats,
    sink(metrics) {
      if (metrics === undefined) return { recordProxyRequest: (r) => stats.record(r) };
      // Spread keeps every other method of the metrics object (new ones included).
      return {
        ...metrics,
        recordProxyRequest(r) {
          metrics.recordProxyRequest(r);
          stats.record(r);
        },
      };
    },
    snapshot,
    close,
    [Symbol.asyncDispose]: close,
  };
}
