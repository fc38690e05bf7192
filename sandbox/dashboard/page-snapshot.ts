/**
 * The sandbox's {@link FleetSnapshot} in the shape of the shared dashboard page
 * (lib/dashboard/page-model.ts): one page for the gateway and the sandbox. The sandbox adds its
 * gateway and store cards, each instance's process, and Crash/Restart buttons; the per-service
 * charts come from its gateways' own dashboards (series-merge.ts).
 */
import type { DashboardInstance, DashboardSnapshot, StatusMark } from '../../lib/dashboard/page-model.js';
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
