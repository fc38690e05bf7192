/**
 * The registry `createMetrics()` reports on: the one it was given, or else the process-wide
 * default registry (lib/registry/default-registry.ts) once something else created it. Looking
 * for it never creates it (no store connection is opened for metrics) and holds no lease (it
 * still closes when the last zero-argument middleware closes). docs/metrics.md, "Which registry".
 */
import { peekDefaultRegistry } from '../registry/default-registry.js';
import type { RegistryApi, RegistryChange, StoreState } from '../registry/registry-api.js';

/** What is counted of the followed registry's events. */
export interface RegistryListeners {
  /** Every change and every renewal (the `change` and `renew` events). */
  onChange(change: RegistryChange): void;
  onStoreState(state: StoreState): void;
}

/**
 * Follows one registry's events and says which registry to read.
 * @example
 * const followed = new FollowedRegistry(undefined, { onChange, onStoreState });
 * followed.current()?.instances(); // at scrape time: the default registry, once it exists
 */
export class FollowedRegistry {
  readonly #given: RegistryApi | undefined;
  readonly #listeners: RegistryListeners;
  #followed: RegistryApi | undefined;
  #closed = false;

  constructor(given: RegistryApi | undefined, listeners: RegistryListeners) {
    this.#given = given;
    this.#listeners = listeners;
    if (given !== undefined) this.#follow(given);
  }

  /**
   * The registry to read now. Without a given one, the default registry is looked up at every call:
   * it may have been created, or closed and built again, since the last scrape.
   */
  current(): RegistryApi | undefined {
    if (this.#given !== undefined || this.#closed) return this.#given;
    const now = peekDefaultRegistry();
    if (now !== this.#followed) this.#follow(now);
    return now;
  }

  /** Stops following. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#follow(undefined);
  }

  #follow(registry: RegistryApi | undefined): void {
    const before = this.#followed;
    if (before !== undefined) {
      before.off('change', this.#listeners.onChange);
      before.off('renew', this.#listeners.onChange);
      before.off('store-state', this.#listeners.onStoreState);
    }
    this.#followed = registry;
    registry?.on('change', this.#listeners.onChange);
    registry?.on('renew', this.#listeners.onChange); // heartbeats are counted too
    registry?.on('store-state', this.#listeners.onStoreState);
  }
}
