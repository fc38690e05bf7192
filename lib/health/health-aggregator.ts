/**
 * `GET /health`: the fleet's health in furt's format, extended with the registry's own state and
 * per-instance detail. Built from the local cache and the checker's memory, so it answers even
 * when the store is down. README "Registration API"; the shape is documented in docs/health.md.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dropUndefined } from '../core/options-merge.js';
import { sendError } from '../core/send-error.js';
import { FleetgateError, isFleetgateError } from '../errors.js';
import { type DefaultRegistryLease, leaseDefaultRegistry } from '../registry/default-registry.js';
import type { InstanceStatus, ServiceInstance } from '../registry/model.js';
import type { RegistryApi } from '../registry/registry-api.js';
import type { InstanceHealth } from './health-checker.js';
import { buildHealthSummary, fleetCensus, type HealthSummaryReport, reportHead } from './health-summary.js';

export type { HealthSummaryReport } from './health-summary.js';

/** The overall verdict. */
export type OverallHealth = 'healthy' | 'degraded' | 'unhealthy';

/** One instance in the report. Times are ISO 8601 strings. */
export interface InstanceHealthReport {
  instance_id: string;
  url: string;
  status: InstanceStatus;
  last_ping: string | null;
  response_time_ms: number | null;
  consecutive_failures: number;
  last_heartbeat: string;
  expires_at: string;
  /** How the instance joined when not through the registration API: `eureka` or `consul` (lib/compat/). */
  origin?: string;
}

/** One service: `UP` when at least one instance is UP or UNKNOWN. Summary fields come from its representative instance. */
export interface ServiceHealthReport {
  status: 'UP' | 'DOWN';
  /** Present only when panic mode is on: whether this service's healthy share is below the threshold. */
  panic?: boolean;
  url: string;
  last_ping: string | null;
  response_time_ms: number | null;
  consecutive_failures: number;
  instances: InstanceHealthReport[];
}

/** The `GET /health` body. */
export interface HealthReport {
  status: OverallHealth;
  service: string;
  version?: string;
  registry: {
    type: string;
    connected: boolean;
    self_preservation: boolean;
    self_preservation_reason?: string;
    degraded_reason?: string;
  };
  /** Present only when panic mode is on (opt-in `panicThreshold`). */
  routing?: { panic_threshold: number };
  services: Record<string, ServiceHealthReport>;
}

/**
 * What callers outside `ADMIN_ALLOW_FROM` (without `ADMIN_TOKEN`) see: the overall status and each
 * service's status, never URLs, instance ids, weights or the registry's internals.
 */
export interface RedactedHealthReport {
  status: OverallHealth;
  service: string;
  services: Record<string, { status: 'UP' | 'DOWN' }>;
}

/** Options of {@link healthAggregator}. */
export interface HealthAggregatorOptions {
  /**
   * Source of instances and of the registry's own health. When absent, the process-wide default
   * registry (lib/registry/default-registry.ts), shared with a zero-argument `registry()` and
   * `discoveryProxy()`. @default undefined
   */
  registry: RegistryApi | undefined;
  /** Source of probe detail (last ping, response time, failures). @default undefined (fields are null/0) */
  checker: { get(service: string, instanceId: string): InstanceHealth | undefined } | undefined;
  /** Reported as `version`; omitted when undefined. @default undefined */
  version: string | undefined;
  /** Reported as `service`. @default 'fleetgate' */
  serviceName: string;
  /** Path answered. @default '/health' */
  path: string;
  /**
   * Panic threshold of the proxy (lib/routing/instance-selector.ts), reported when on so an operator
   * sees that DOWN instances may take traffic. `0` is off. @default 0
   */
  panicThreshold: number;
  /**
   * Who gets the full report; everyone else gets {@link RedactedHealthReport}. The gateway passes
   * its operator guard (lib/http/admin-access.ts). @default () => true (everyone: mount it behind your own guard)
   */
  fullReportFor: (req: IncomingMessage) => boolean;
  /**
   * Above this many live instances `/health` answers {@link HealthSummaryReport} (counts per
   * service, bounded by the number of services) unless the request asks for detail: `?detail=1`
   * for the full report, `?service=a,b` for those services' instances. At or below it, the full
   * furt-format report, as for every small fleet. @default 500
   */
  summaryAbove: number;
}

/** Defaults of {@link HealthAggregatorOptions}. Frozen. */
export const HEALTH_AGGREGATOR_DEFAULTS: Readonly<HealthAggregatorOptions> = Object.freeze({
  registry: undefined,
  checker: undefined,
  version: undefined,
  serviceName: 'fleetgate',
  path: '/health',
  panicThreshold: 0,
  fullReportFor: () => true,
  summaryAbove: 500,
});

/**
 * Builds the report.
 * - a service is `UP` when ≥ 1 instance is UP or UNKNOWN, else `DOWN`;
 * - `unhealthy` when the store is disconnected with no last-known instances, or every service is DOWN;
 * - `degraded` when the store is disconnected, the registry gives a `degraded_reason`,
 *   self-preservation is active, or some service is DOWN (a report never says `healthy` while
 *   it explains why it is degraded);
 * - `healthy` otherwise (an empty, connected fleet is healthy).
 */
export function buildHealthReport(
  options: Partial<HealthAggregatorOptions> & { registry: RegistryApi },
  only?: ReadonlySet<string>,
): HealthReport {
  const o = { ...HEALTH_AGGREGATOR_DEFAULTS, ...dropUndefined(options), registry: options.registry };
  const rh = o.registry.health();
  const census = fleetCensus(o.registry.instances());
  const services: Record<string, ServiceHealthReport> = {};
  const panicOn = o.panicThreshold > 0;
  // `only` (`?service=`): detail for those services; the verdict still covers the whole fleet.
  const names = only === undefined ? [...census.byService.keys()].sort() : [...only].sort();
  for (const name of names) {
    const list = census.byService.get(name)?.instances;
    if (list === undefined) continue;
    const instances = list
      .sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0))
      .map((inst) => instanceReport(inst, o.checker?.get(inst.service, inst.instanceId)));
    const report = serviceReport(instances);
    if (panicOn) report.panic = inPanic(instances, o.panicThreshold);
    services[name] = report;
  }
  return { ...reportHead(rh, census, o), services };
}

/**
 * The report for an outside caller: overall and per-service status only.
 * @example redactHealthReport(buildHealthReport({ registry })).services.sagjan // { status: 'UP' }
 */
export function redactHealthReport(report: HealthReport | HealthSummaryReport): RedactedHealthReport {
  const services: RedactedHealthReport['services'] = {};
  for (const [name, s] of Object.entries(report.services)) services[name] = { status: s.status };
  return { status: report.status, service: report.service, services };
}

/** The middleware returned by {@link healthAggregator}. */
export interface HealthAggregatorMiddleware extends AsyncDisposable {
  (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void;
  /** Gives back its lease on the default registry (the last lease closes it); nothing when given a registry. */
  close(): Promise<void>;
}

/**
 * The `/health` middleware: `GET`/`HEAD` on `path` answer 200 with {@link HealthReport} (or
 * {@link RedactedHealthReport} for callers `fullReportFor` refuses) whatever the fleet's state:
 * the body says `unhealthy`, but the gateway answering is itself working, so `/health` never
 * fails a probe because upstreams are DOWN (use `/livez` and `/readyz` for orchestrators).
 * Other requests go to `next`.
 * @example app.use(healthAggregator({ registry, checker, version: pkg.version }));
 * @example app.use(healthAggregator()); // the default registry, shared with registry() and discoveryProxy()
 */
export function healthAggregator(options: Partial<HealthAggregatorOptions> = {}): HealthAggregatorMiddleware {
  const given = options.registry;
  if (given !== undefined && (given === null || typeof given.instances !== 'function')) {
    throw new FleetgateError('ERR_FG_INVALID_CONFIG', 'healthAggregator: option registry must be a registry');
  }
  const path = options.path ?? HEALTH_AGGREGATOR_DEFAULTS.path;
  const fullReportFor = options.fullReportFor ?? HEALTH_AGGREGATOR_DEFAULTS.fullReportFor;
  const summaryAbove = options.summaryAbove ?? HEALTH_AGGREGATOR_DEFAULTS.summaryAbove;
  if (!(Number.isInteger(summaryAbove) && summaryAbove >= 0)) {
    throw new FleetgateError(
      'ERR_FG_INVALID_CONFIG',
      `healthAggregator: summaryAbove must be an integer ≥ 0, got ${summaryAbove}`,
    );
  }
  const lease = given === undefined ? leaseDefaultRegistry() : undefined;

  const answer = (registry: RegistryApi, req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => {
    let report: HealthReport | HealthSummaryReport | RedactedHealthReport;
    try {
      const full = buildForRequest({ ...options, registry }, req.url ?? '', summaryAbove);
      report = fullReportFor(req) ? full : redactHealthReport(full);
    } catch (err) {
      return next(err);
    }
    const body = JSON.stringify(report);
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const handler = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void => {
    const q = req.url?.indexOf('?') ?? -1;
    const reqPath = q === -1 ? req.url : req.url?.slice(0, q);
    if (reqPath !== path || (req.method !== 'GET' && req.method !== 'HEAD')) {
      next();
      return;
    }
    const registry = given ?? lease?.peek();
    if (registry !== undefined) {
      answer(registry, req, res, next);
      return;
    }
    (lease as DefaultRegistryLease).get().then(
      (created) => answer(created, req, res, next),
      (err: unknown) =>
        sendError(
          res,
          isFleetgateError(err)
            ? err
            : new FleetgateError('ERR_FG_STORE_UNAVAILABLE', 'the registry could not be created', { cause: err }),
        ),
    );
  };
  const close = async (): Promise<void> => {
    await lease?.release();
  };
  return Object.assign(handler, { close, [Symbol.asyncDispose]: close });
}

function instanceReport(inst: ServiceInstance, h: InstanceHealth | undefined): InstanceHealthReport {
  return {
    instance_id: inst.instanceId,
    url: inst.url,
    status: inst.status,
    last_ping: iso(h?.lastPing),
    response_time_ms: h?.responseTimeMs ?? null,
    consecutive_failures: h?.consecutiveFailures ?? 0,
    last_heartbeat: new Date(inst.lastHeartbeat).toISOString(),
    expires_at: new Date(inst.expiresAt).toISOString(),
    ...(typeof inst.metadata.origin === 'string' ? { origin: inst.metadata.origin } : {}),
  };
}

/**
 * The representative instance: the most recently probed routable one (UP/UNKNOWN), else the most
 * recently probed one, else the first by id.
 */
function serviceReport(instances: InstanceHealthReport[]): ServiceHealthReport {
  const routable = instances.filter((i) => i.status === 'UP' || i.status === 'UNKNOWN');
  const pool = routable.length > 0 ? routable : instances;
  let rep = pool[0] as InstanceHealthReport;
  for (const i of pool) if (i.last_ping !== null && (rep.last_ping === null || i.last_ping > rep.last_ping)) rep = i;
  return {
    status: routable.length > 0 ? 'UP' : 'DOWN',
    url: rep.url,
    last_ping: rep.last_ping,
    response_time_ms: rep.response_time_ms,
    consecutive_failures: rep.consecutive_failures,
    instances,
  };
}

/** Whether the proxy would route `instances`' service in panic mode (same rule as lib/routing/instance-selector.ts, by status). */
function inPanic(instances: readonly InstanceHealthReport[], threshold: number): boolean {
  let live = 0;
  let healthy = 0;
  for (const i of instances) {
    if (i.status === 'DRAINING') continue;
    live++;
    if (i.status === 'UP' || i.status === 'UNKNOWN') healthy++;
  }
  return live > 0 && healthy < threshold * live;
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/**
 * The report a request asks for: `?service=a,b` → those services in full; `?detail=1` → everything
 * in full; otherwise the full report up to `summaryAbove` live instances and a summary above it.
 */
function buildForRequest(
  options: Partial<HealthAggregatorOptions> & { registry: RegistryApi },
  url: string,
  summaryAbove: number,
): HealthReport | HealthSummaryReport {
  const q = url.indexOf('?');
  const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const only = params
    .getAll('service')
    .flatMap((v) => v.split(','))
    .filter((v) => v !== '');
  if (only.length > 0) return buildHealthReport(options, new Set(only.slice(0, 100)));
  const detail = params.get('detail');
  if (detail === '1' || detail === 'true') return buildHealthReport(options);
  if (options.registry.instances().length <= summaryAbove) return buildHealthReport(options);
  const o = { ...HEALTH_AGGREGATOR_DEFAULTS, ...dropUndefined(options), registry: options.registry };
  return buildHealthSummary(o);
}
