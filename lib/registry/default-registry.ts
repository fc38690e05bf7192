/**
 * The process-wide default registry: what `registry()`, `discoveryProxy()` and
 * `healthAggregator()` use when they are given no `registry` option. One registry, built from
 * `process.env` (`REGISTRY_TYPE`, …) on first use and shared, so a registration accepted by
 * `registry()` is routable by `discoveryProxy()` in the same process. Each zero-argument
 * middleware holds a lease; the last lease given back closes the registry (once).
 */
import { createRegistry } from './create-registry.js';
import type { Registry } from './registry.js';

/** One middleware's hold on the default registry. */
export interface DefaultRegistryLease {
  /** The shared registry, created on the first call; after a failed creation the next call tries again. */
  get(): Promise<Registry>;
  /** The registry when it already exists and is ready, else `undefined`. */
  peek(): Registry | undefined;
  /** Gives the lease back; the last lease closes the registry. Idempotent. */
  release(): Promise<void>;
}

let pending: Promise<Registry> | undefined;
let ready: Registry | undefined;
let leases = 0;

function obtain(): Promise<Registry> {
  if (pending === undefined) {
    const created = createRegistry();
    pending = created;
    created.then(
      (registry) => {
        if (pending === created) ready = registry;
      },
      () => {
        // A store that was down at the first request must not stay "down" for ever.
        if (pending === created) pending = undefined;
      },
    );
  }
  return pending;
}

/**
 * Takes a lease on the default registry (nothing is created until `get()`).
 * @example
 * const lease = leaseDefaultRegistry();
 * const registry = await lease.get();
 * await lease.release(); // the last one closes it
 */
export function leaseDefaultRegistry(): DefaultRegistryLease {
  leases++;
  let released = false;
  return {
    get: obtain,
    peek: () => ready,
    release: async () => {
      if (released) return;
      released = true;
      leases--;
      if (leases === 0) await closeDefaultRegistry();
    },
  };
}

/**
 * The default registry itself, for code that wants to see what the zero-argument middlewares
 * share (a static instance, a test). Takes no lease.
 * @example const registry = await defaultRegistry(); registry.instances();
 */
export function defaultRegistry(): Promise<Registry> {
  return obtain();
}

/**
 * The default registry when it already exists and is ready, else `undefined`. Takes no lease and
 * creates nothing: for observers such as `createMetrics()`, which must neither build the registry
 * (a store connection) nor keep it open after the middlewares that use it have closed.
 * @example peekDefaultRegistry()?.instances().length
 */
export function peekDefaultRegistry(): Registry | undefined {
  return ready;
}

/**
 * Closes the default registry now, whatever leases remain (call it on shutdown). A later
 * `get()` builds a new one from the environment. Idempotent.
 * @example process.once('SIGTERM', () => void closeDefaultRegistry());
 */
export async function closeDefaultRegistry(): Promise<void> {
  const current = pending;
  pending = undefined;
  ready = undefined;
  if (current === undefined) return;
  const registry = await current.catch(() => undefined);
  await registry?.close();
}
