/**
 * Builds the gateway's {@link DashboardSnapshot} from the registry's local cache, the request
 * rings and the journal. Bounded: at most `maxServices` services (busiest first, then by name)
 * and `maxInstances` instances each; the counts say how many there are in total.
 */
import type { RegistryApi } from '../registry/registry-api.js';
import type { DashboardInstance, DashboardService, DashboardSnapshot } from './page-model.js';
import { instanceKey, type RegistryJournal } from './registry-journal.js';
import type { RequestStats } from './request-stats.js';

/** Limits of a snapshot. */
export interface SnapshotLimits {
  /** Services listed. @default 100 */
  maxServices: number;
  /** Instances listed per service. @default 50 */
  maxInstances: number;
  /** Events listed. @default 50 */
  maxEvents: number;
  /** Seconds the sparklines and status histories cover (the request rings' length). @default 60 */
  windowSeconds: number;
}

/** Defaults of {@link SnapshotLimits}. Frozen. */
export const SNAPSHOT_LIMITS: Readonly<SnapshotLimits> = Object.freeze({
  maxServices: 100,
  maxInstances: 50,
  maxEvents: 50,
  windowSeconds: 60,
});

/** What a snapshot is built from. */
export interface SnapshotSources {
  registry: RegistryApi;
  stats: RequestStats;
  journal: RegistryJournal;
  /** Header line, e.g. `INMEMORY registry · gateway edge-1`. */
  meta: () => string;
}

/**
 * @example const snapshot = buildSnapshot(sources, SNAPSHOT_LIMITS, Date.now());
 */
export function buildSnapshot(src: SnapshotSources, limits: SnapshotLimits, now: number): DashboardSnapshot {
  const from = now - limits.windowSeconds * 1000;
  const names = src.registry.services();
  const live = new Set(names);
  const busy = new Map<string, number>();
  let totalRps = 0;
  const seriesOf = new Map<string, ReturnType<RequestStats['series']>>();
  for (const name of new Set([...names, ...src.stats.services()])) {
    const series = src.stats.series(name);
    seriesOf.set(name, series);
    const last = series.rps.at(-1) ?? 0;
    totalRps += last;
    busy.set(
      name,
      series.rps.reduce((a, b) => a + b, 0),
    );
  }
  // Services that left the registry stop being sampled.
  for (const name of src.stats.services()) if (!live.has(name)) src.stats.forget(name);
  const shown = [...names]
    .sort((a, b) => (busy.get(b) ?? 0) - (busy.get(a) ?? 0) || a.localeCompare(b))
    .slice(0, limits.maxServices)
    .sort((a, b) => a.localeCompare(b));
  const services: DashboardService[] = shown.map((name) => {
    const all = src.registry.instances(name);
    const instances: DashboardInstance[] = all
      .slice()
      .sort((a, b) => a.instanceId.localeCompare(b.instanceId))
      .slice(0, limits.maxInstances)
      .map((i) => ({
        instanceId: i.instanceId,
        status: i.status,
        url: i.url,
        lastHeartbeat: new Date(i.lastHeartbeat).toISOString(),
        epoch: i.epoch,
        version: i.version,
        zone: i.zone,
        origin: typeof i.metadata.origin === 'string' ? i.metadata.origin : undefined,
        history: src.journal.history.window(instanceKey(name, i.instanceId), from, i.status),
      }));
    return {
      name,
      instances,
      total: all.length,
      up: all.filter((i) => i.status === 'UP').length,
      series: seriesOf.get(name),
    };
  });
  return {
    at: now,
    meta: src.meta(),
    windowSeconds: limits.windowSeconds,
    services,
    totalServices: names.length,
    totalRps,
    events: src.journal.events.list(limits.maxEvents),
  };
}
