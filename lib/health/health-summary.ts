/**
 * `/health` for a large fleet: the overall verdict and the registry's state as in the full report,
 * then counts per service instead of every instance. Its size grows with the number of services,
 * not instances; per-instance detail stays one request away (`?service=` or `?detail=1`).
 */
import type { ServiceInstance } from '../registry/model.js';
import type { RegistryApi, RegistryHealth } from '../registry/registry-api.js';

/** Verdict, as in the full report. */
type Overall = 'healthy' | 'degraded' | 'unhealthy';

/** The registry part of a report. */
export interface RegistryReport {
  type: string;
  connected: boolean;
  self_preservation: boolean;
  self_preservation_reason?: string;
  degraded_reason?: string;
}

/** One service in a summary. */
export interface ServiceSummary {
  /** `UP` when at least one instance is UP or UNKNOWN. */
  status: 'UP' | 'DOWN';
  /** Live instances. */
  instances: number;
  /** Of which UP or UNKNOWN (routable). */
  up: number;
  /** Present only when panic mode is on. */
  panic?: boolean;
}

/** The `GET /health` body above `summaryAbove` instances, without `?detail=1` or `?service=`. */
export interface HealthSummaryReport {
  status: Overall;
  service: string;
  version?: string;
  registry: RegistryReport;
  routing?: { panic_threshold: number };
  summary: {
    services: number;
    services_down: number;
    instances: number;
    instances_up: number;
    /** How to ask for per-instance detail. */
    detail: string;
  };
  services: Record<string, ServiceSummary>;
}

/** Live instances grouped by service, with the counts the verdict needs. */
export interface FleetCensus {
  byService: Map<string, { instances: ServiceInstance[]; up: number; live: number }>;
  servicesDown: number;
  instancesUp: number;
  instances: number;
}

/** Groups `instances` by service and counts routable ones. O(instances). */
export function fleetCensus(instances: readonly ServiceInstance[]): FleetCensus {
  const byService: FleetCensus['byService'] = new Map();
  let instancesUp = 0;
  for (const inst of instances) {
    let entry = byService.get(inst.service);
    if (entry === undefined) {
      entry = { instances: [], up: 0, live: 0 };
      byService.set(inst.service, entry);
    }
    entry.instances.push(inst);
    if (inst.status !== 'DRAINING') entry.live++;
    if (inst.status === 'UP' || inst.status === 'UNKNOWN') {
      entry.up++;
      instancesUp++;
    }
  }
  let servicesDown = 0;
  for (const entry of byService.values()) if (entry.up === 0) servicesDown++;
  return { byService, servicesDown, instancesUp, instances: instances.length };
}

/**
 * The overall verdict: `unhealthy` when the store is disconnected with nothing known or every
 * service is DOWN; `degraded` when disconnected, degraded, self-preserving or some service is
 * DOWN; `healthy` otherwise.
 */
export function overallHealth(rh: RegistryHealth, services: number, down: number): Overall {
  const preserving = rh.selfPreservation.active;
  return (!rh.connected && services === 0) || (services > 0 && down === services)
    ? 'unhealthy'
    : !rh.connected || rh.degradedReason !== undefined || preserving || down > 0
      ? 'degraded'
      : 'healthy';
}

/** The registry part of every report. */
export function registryReport(rh: RegistryHealth): RegistryReport {
  const preserving = rh.selfPreservation.active;
  return {
    type: rh.type,
    connected: rh.connected,
    self_preservation: preserving,
    ...(preserving && rh.selfPreservation.reason !== undefined
      ? { self_preservation_reason: rh.selfPreservation.reason }
      : {}),
    ...(rh.degradedReason === undefined ? {} : { degraded_reason: rh.degradedReason }),
  };
}

/**
 * What the full report and the summary both open with: the verdict over the whole fleet, who
 * answers, the store's state and, when panic routing is on, its threshold.
 * @example { ...reportHead(registry.health(), fleetCensus(registry.instances()), options), services }
 */
export function reportHead(
  rh: RegistryHealth,
  census: FleetCensus,
  o: { serviceName: string; version?: string | undefined; panicThreshold: number },
): {
  status: Overall;
  service: string;
  version?: string;
  registry: RegistryReport;
  routing?: { panic_threshold: number };
} {
  return {
    status: overallHealth(rh, census.byService.size, census.servicesDown),
    service: o.serviceName,
    ...(o.version === undefined ? {} : { version: o.version }),
    registry: registryReport(rh),
    ...(o.panicThreshold > 0 ? { routing: { panic_threshold: o.panicThreshold } } : {}),
  };
}

/**
 * Builds the summary.
 * @example buildHealthSummary({ registry, serviceName: 'fleetgate', panicThreshold: 0 }).summary.instances
 */
export function buildHealthSummary(o: {
  registry: RegistryApi;
  serviceName: string;
  version?: string | undefined;
  panicThreshold: number;
}): HealthSummaryReport {
  const rh = o.registry.health();
  const census = fleetCensus(o.registry.instances());
  const panicOn = o.panicThreshold > 0;
  const services: Record<string, ServiceSummary> = {};
  for (const name of [...census.byService.keys()].sort()) {
    const e = census.byService.get(name)!;
    const s: ServiceSummary = { status: e.up > 0 ? 'UP' : 'DOWN', instances: e.instances.length, up: e.up };
    // Same rule as lib/routing/instance-selector.ts, by status.
    if (panicOn) s.panic = e.live > 0 && e.up < o.panicThreshold * e.live;
    services[name] = s;
  }
  return {
    ...reportHead(rh, census, o),
    summary: {
      services: census.byService.size,
      services_down: census.servicesDown,
      instances: census.instances,
      instances_up: census.instancesUp,
      detail: '?service=<name>[,<name>] for those services, ?detail=1 for every instance',
    },
    services,
  };
}
