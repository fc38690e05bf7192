/**
 * One expiry sweep over the local cache: take the leases that expired since the last sweep (the
 * cache's expiry wheel: O(expired), not O(cached)), let self-preservation decide which leave, and
 * remove those.
 */
import { InstanceCache } from './instance-cache.js';
import type { ServiceInstance } from './model.js';
import type { SelfPreservation } from './self-preservation.js';

/** What a sweep did. */
export interface SweepResult {
  /** Instances removed from the cache; each gets an `expired` event. */
  evicted: ServiceInstance[];
  /** Set when self-preservation froze or thawed at this sweep. */
  transition?: 'freeze' | 'thaw';
}

/**
 * Sweeps `cache` at `now`. Expired leases not yet held are offered to `preservation`, which
 * either lets them go or holds them (and maybe releases everything it held, on thaw).
 */
export function sweepExpired(
  cache: InstanceCache,
  preservation: SelfPreservation,
  now: number,
  storeHealthy: boolean,
): SweepResult {
  // Each expired lease is taken once: self-preservation either evicts it now or holds it (and
  // re-judges what it holds at every sweep); a renewal puts it back on the wheel.
  const newlyExpired: string[] = [];
  for (const entry of cache.takeExpired(now)) if (!preservation.isHeld(entry.key)) newlyExpired.push(entry.key);
  const decision = preservation.sweep({
    now,
    storeHealthy,
    newlyExpired,
    total: cache.size,
    stillExpired: (key) => {
      const entry = cache.entry(key);
      return entry !== undefined && InstanceCache.expired(entry, now);
    },
  });
  const evicted: ServiceInstance[] = [];
  for (const key of decision.evict) {
    const entry = cache.entry(key);
    if (entry === undefined) continue;
    cache.remove(entry.instance.service, entry.instance.instanceId);
    evicted.push(entry.instance);
  }
  return decision.transition === undefined ? { evicted } : { evicted, transition: decision.transition };
}
