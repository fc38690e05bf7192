/**
 * One frozen copy of a service's routes and metadata for all its instances that register equal
 * ones. The instances of a service usually register the same routes, so at 10,000 instances one
 * copy per instance adds up (docs/scale.md "Memory per instance"). Used by the in-memory
 * backend's store and the registry's local cache, each for what it holds.
 */
import { frozenCopy, sameData } from './frozen-data.js';
import type { ServiceInstance } from './model.js';

/** The registration data shared between instances: deep-frozen. */
export type SharedData = Readonly<Pick<ServiceInstance, 'routes' | 'metadata'>>;

/**
 * The frozen routes and metadata last stored per service.
 * @example
 * const share = new SharedRegistrationData();
 * const a = share.of('orders', routes, {});
 * share.of('orders', structuredClone(routes), {}).routes === a.routes // true: equal, so shared
 */
export class SharedRegistrationData {
  readonly #last = new Map<string, SharedData>();

  /**
   * Frozen data equal to `routes` and `metadata`: the service's last stored copy of each when
   * equal, else a fresh frozen copy, which becomes the service's. The arguments are never kept.
   */
  of(service: string, routes: ServiceInstance['routes'], metadata: ServiceInstance['metadata']): SharedData {
    const last = this.#last.get(service);
    const shared: SharedData = {
      routes: last !== undefined && sameData(last.routes, routes) ? last.routes : frozenCopy(routes),
      metadata: last !== undefined && sameData(last.metadata, metadata) ? last.metadata : frozenCopy(metadata),
    };
    if (last === undefined || last.routes !== shared.routes || last.metadata !== shared.metadata)
      this.#last.set(service, shared);
    return shared;
  }

  /** Drops the service's copy (its last instance left). */
  forget(service: string): void {
    this.#last.delete(service);
  }

  /** Drops every copy. */
  clear(): void {
    this.#last.clear();
  }
}
