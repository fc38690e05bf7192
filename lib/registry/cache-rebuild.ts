/**
 * Rebuilding the local cache after a full re-list (start-up, or a `resync` from the backend after
 * a reconnect or compaction), and the per-instance differences to announce.
 */
import { compareVersions, InstanceCache } from './instance-cache.js';
import type { RegistryEvent, ServiceInstance } from './model.js';
import type { RegistryChange } from './registry-api.js';

/** One difference between the old and the rebuilt cache. */
export interface CacheDifference {
  type: Exclude<RegistryChange['type'], 'resync' | 'expire'>;
  service: string;
  instanceId: string;
  instance?: ServiceInstance;
  previous?: ServiceInstance;
}

/** The rebuilt cache and what changed. */
export interface CacheRebuild {
  cache: InstanceCache;
  differences: CacheDifference[];
  /** Instances the store no longer has: kept, marked lost, left to the sweep (and self-preservation). */
  lost: number;
}

/**
 * Builds a new cache from `listed`, replays the watch events that arrived while listing, and
 * diffs it against `old`. Instances `old` had that the store lost are kept as lost leases: a
 * store that restarted empty looks exactly like a mass expiry, which self-preservation judges.
 */
export function rebuildCache(
  old: InstanceCache,
  listed: readonly ServiceInstance[],
  buffered: readonly RegistryEvent[],
  now: number,
): CacheRebuild {
  const next = new InstanceCache();
  for (const inst of listed) next.upsert(inst, now);
  const deregistered = new Set<string>();
  for (const event of buffered) {
    if (event.type === 'deregister') {
      next.remove(event.service, event.instanceId, event.instance);
      deregistered.add(`${event.service}\u0000${event.instanceId}`);
    } else if (event.type === 'expire') {
      next.markLost(event.service, event.instanceId, event.instance);
    } else if (event.instance !== undefined) {
      next.upsert(event.instance, now);
    }
  }
  const differences: CacheDifference[] = [];
  for (const entry of next.entries()) {
    const prev = old.entry(entry.key);
    const inst = entry.instance;
    if (prev === undefined) {
      differences.push({ type: 'register', service: inst.service, instanceId: inst.instanceId, instance: inst });
      continue;
    }
    const p = prev.instance;
    if (compareVersions(inst, p) < 0) {
      // The old cache already had a newer version (a direct update raced the listing): keep it.
      next.restore(prev);
      continue;
    }
    const type = classify(p, inst);
    if (type !== undefined) {
      differences.push({ type, service: inst.service, instanceId: inst.instanceId, instance: inst, previous: p });
    }
  }
  let lost = 0;
  for (const prev of old.entries()) {
    if (next.entry(prev.key) !== undefined) continue;
    const { service, instanceId } = prev.instance;
    if (deregistered.has(prev.key)) {
      differences.push({ type: 'deregister', service, instanceId, previous: prev.instance });
    } else {
      next.restore({ ...prev, lost: true });
      lost++;
    }
  }
  return { cache: next, differences, lost };
}

function classify(before: ServiceInstance, after: ServiceInstance): CacheDifference['type'] | undefined {
  if (before.registeredAt !== after.registeredAt || before.epoch !== after.epoch) return 'register';
  if (before.status !== after.status) return 'status';
  if (before.lastHeartbeat !== after.lastHeartbeat || before.expiresAt !== after.expiresAt) return 'heartbeat';
  return undefined;
}
