/**
 * New instances being registered by this gateway, counted against the instance limits
 * (lib/registry/registry-limits.ts) until they are in the cache. An instance can reach the cache
 * before its registration call returns (a backend whose watch reports it at once): from then on
 * the cache counts it, and counting it here as well would refuse a registration the limit allows.
 */
export class PendingRegistrations {
  /** service → registration → its instance id (`undefined`: the backend will choose one). */
  readonly #byService = new Map<string, Map<number, string | undefined>>();
  #next = 0;

  /** Records a registration in flight; returns its handle for {@link remove}. */
  add(service: string, instanceId: string | undefined): number {
    const handle = this.#next++;
    let pending = this.#byService.get(service);
    if (pending === undefined) {
      pending = new Map();
      this.#byService.set(service, pending);
    }
    pending.set(handle, instanceId);
    return handle;
  }

  /** Forgets a registration once it is done (either way). */
  remove(service: string, handle: number): void {
    const pending = this.#byService.get(service);
    if (pending === undefined) return;
    pending.delete(handle);
    if (pending.size === 0) this.#byService.delete(service);
  }

  /**
   * Registrations in flight whose instance `cached` does not hold yet, of `service` or of all.
   * Costs one look-up per registration in flight.
   * @example pending.count((s, id) => cache.cached(s, id) !== undefined, 'orders')
   */
  count(cached: (service: string, instanceId: string) => boolean, service?: string): number {
    let n = 0;
    const count = (name: string, pending: Map<number, string | undefined>): void => {
      for (const id of pending.values()) if (id === undefined || !cached(name, id)) n++;
    };
    if (service !== undefined) {
      const pending = this.#byService.get(service);
      if (pending !== undefined) count(service, pending);
    } else for (const [name, pending] of this.#byService) count(name, pending);
    return n;
  }
}
