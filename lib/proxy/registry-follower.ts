/**
 * The proxy following the registry: an instance that leaves or re-registers loses its passive
 * health record (outlier ejection, circuit breaker), and the upstream pool of an address no live
 * instance and no static route uses any more is closed.
 */
import type { RegistryApi, RegistryChange } from '../registry/registry-api.js';
import type { OutlierDetector } from '../upstream/outlier-detector.js';
import type { CircuitBreakers } from './circuit-breakers.js';
import type { UpstreamPools } from './upstream-pools.js';

/** What the follower keeps in step with the registry. */
export interface FollowedParts {
  readonly pools: UpstreamPools;
  readonly outliers: OutlierDetector;
  readonly breakers: CircuitBreakers;
  /** Addresses of static routes: their pools stay whatever the registry says. */
  readonly staticTargets: ReadonlySet<string>;
}

/**
 * Follows `registry`'s changes until {@link close}.
 * @example
 * const follower = new RegistryFollower(registry, { pools, outliers, breakers, staticTargets });
 * follower.close(); // on shutdown
 */
export class RegistryFollower {
  readonly #registry: RegistryApi;
  readonly #parts: FollowedParts;
  readonly #onChange = (change: RegistryChange): void => this.#follow(change);

  constructor(registry: RegistryApi, parts: FollowedParts) {
    this.#registry = registry;
    this.#parts = parts;
    registry.on('change', this.#onChange);
  }

  /** Stops following. Idempotent. */
  close(): void {
    this.#registry.off('change', this.#onChange);
  }

  #follow(change: RegistryChange): void {
    const { outliers, breakers } = this.#parts;
    if (change.type === 'resync') {
      this.#reconcilePools();
      return;
    }
    const before = change.previous;
    if (change.type === 'deregister' || change.type === 'expire') {
      if (change.service !== undefined && change.instanceId !== undefined) {
        outliers.forget(change.service, change.instanceId);
        breakers.forget(change.service, change.instanceId);
      }
      if (before === undefined) this.#reconcilePools();
      else this.#releaseIfUnused(before.url);
    } else if (change.type === 'register' && before !== undefined && change.instance !== undefined) {
      // A re-registration is a restarted (or re-homed) instance: yesterday's failures are not its own.
      outliers.forget(before.service, before.instanceId);
      breakers.forget(before.service, before.instanceId);
      if (before.url !== change.instance.url) this.#releaseIfUnused(before.url);
    }
  }

  #releaseIfUnused(url: string): void {
    const { pools, staticTargets } = this.#parts;
    if (staticTargets.has(url) || !pools.has(url)) return;
    for (const inst of this.#registry.instances()) if (inst.url === url) return;
    pools.release(url);
  }

  #reconcilePools(): void {
    const { pools, staticTargets } = this.#parts;
    const live = new Set(this.#registry.instances().map((i) => i.url));
    for (const url of pools.urls()) {
      if (!live.has(url) && !staticTargets.has(url)) pools.release(url);
    }
  }
}
