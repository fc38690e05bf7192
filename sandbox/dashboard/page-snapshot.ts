/**
 * The sandbox's {@link FleetSnapshot} in the shape of the shared dashboard page
 * (lib/dashboard/page-model.ts): one page for the gateway and the sandbox. The sandbox adds its
 * gateway and store cards, each instance's process, and Crash/Restart buttons; the per-service
 * charts come from its gateways' own dashboards (see {@link mergeSeries}).
 */
import type {
  DashboardInstance,
  DashboardSnapshot,
  ServiceSeries,
  StatusMark,
} from '../../lib/dashboard/page-model.js';
import type { FleetSnapshot, ViewInstance } from './fleet-view.js';

/**
 * Converts one snapshot. `pollMs` is the FleetView's poll period (one history entry per poll).
 * @example toPageSnapshot(view.snapshot, 500)
 */
export function toPageSnapshot(fleet: FleetSnapshot, pollMs: number): DashboardSnapshot {
  const windowSeconds = Math.max(1, Math.round((maxHistory(fleet) * pollMs) / 1000));
  const gateways = fleet.gateways.length;
  return {
    at: fleet.at,
    meta: `backend ${fleet.backend}${fleet.store ? ` (${fleet.provider})` : ''} · ${gateways} gateway${gateways === 1 ? '' : 's'}`,
    windowSeconds,
    services: fleet.services.map((s) => ({
      name: s.name,
      instances: s.instances.map((i) => instance(i, fleet.at, pollMs)),
      total: s.instances.length,
      up: s.instances.filter((i) => i.registry === 'UP').length,
      series: fleet.series?.[s.name],
    })),
    totalServices: fleet.services.length,
    totalRps: fleet.totalRps,
    events: fleet.events,
    gateways: fleet.gateways.map((g) => ({
      name: g.name,
      url: g.url,
      pid: g.pid,
      health: g.health,
      registryType: g.registryType,
      connected: g.connected,
      reason: g.reason,
      history: g.history,
    })),
    store:
      fleet.store === undefined
        ? undefined
        : { name: fleet.backend, url: `${fleet.store.url} (${fleet.provider})`, running: fleet.store.running },
  };
}

function maxHistory(fleet: FleetSnapshot): number {
  let n = 1;
  for (const s of fleet.services) for (const i of s.instances) n = Math.max(n, i.history.length);
  return n;
}

function instance(i: ViewInstance, at: number, pollMs: number): DashboardInstance {
  return {
    instanceId: i.instanceId,
    status: i.registry,
    url: i.url,
    lastHeartbeat: i.lastHeartbeat,
    epoch: i.epoch,
    version: undefined,
    zone: undefined,
    origin: i.origin,
    history: marks(i.history, at, pollMs),
    process: i.process,
    pid: i.pid,
    rps: i.rps,
    managed: i.managed,
  };
}

/** One status per poll, newest last, as status changes dated by poll. */
function marks(history: readonly string[], at: number, pollMs: number): StatusMark[] {
  const out: StatusMark[] = [];
  history.forEach((status, k) => {
    if (out.at(-1)?.status !== status) out.push({ at: at - (history.length - k) * pollMs, status });
  });
  return out;
}

/**
 * Merges per-service series of several gateways: request rates add up, the error rate is
 * weighted by requests, and p50/p99 are the slowest gateway's.
 * @example mergeSeries([a.services, b.services])
 */
export function mergeSeries(
  perGateway: ReadonlyArray<ReadonlyArray<{ name: string; series?: ServiceSeries | undefined }>>,
): Record<string, ServiceSeries> {
  const out: Record<string, ServiceSeries> = {};
  for (const services of perGateway) {
    for (const { name, series } of services) {
      if (series === undefined) continue;
      const into = out[name];
      if (into === undefined) {
        out[name] = {
          rps: [...series.rps],
          errorRate: [...series.errorRate],
          p50: [...series.p50],
          p99: [...series.p99],
        };
        continue;
      }
      const n = Math.min(into.rps.length, series.rps.length);
      for (let k = 0; k < n; k++) {
        const a = into.rps[k]!;
        const b = series.rps[k]!;
        into.errorRate[k] = a + b === 0 ? 0 : (into.errorRate[k]! * a + series.errorRate[k]! * b) / (a + b);
        into.rps[k] = a + b;
        into.p50[k] = maxOf(into.p50[k], series.p50[k]);
        into.p99[k] = maxOf(into.p99[k], series.p99[k]);
      }
    }
  }
  return out;
}

function maxOf(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined) return b ?? null;
  if (b === null || b === undefined) return a;
  return Math.max(a, b);
}
