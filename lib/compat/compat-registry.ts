/**
 * The registry a compatibility API (Eureka, Consul) translates onto: the one it was given, or,
 * with no `registry` option, the process-wide default registry (lib/registry/default-registry.ts)
 * that a zero-argument `registry()`, `discoveryProxy()` and `healthAggregator()` share, so an
 * instance registered through `/eureka` or `/v1/agent` routes through the zero-argument proxy.
 * The API's state bound to that registry (change followers, indexes, check timers) is built once,
 * on first use, and closed with the API; the lease is given back on close.
 */
import { leaseDefaultRegistry } from '../registry/default-registry.js';
import type { RegistryApi } from '../registry/registry-api.js';

/** State of an API built on one registry. */
export interface BoundState {
  /** Stops following the registry. */
  close(): void | Promise<void>;
}

/** An API's hold on its registry and on the state built from it. */
export interface RegistryBinding<T extends BoundState> {
  /** The state, built on the first call (creating the default registry when none was given). */
  get(): Promise<T>;
  /** The state when it is already built, else `undefined`. */
  peek(): T | undefined;
  /** Closes the state and gives the default registry's lease back. Idempotent; `get()` then rejects. */
  close(): Promise<void>;
}

/**
 * Binds `build` to `given`, or to the default registry when `given` is undefined.
 * With a registry given, the state is built at once (its change events are followed from the start).
 * @example
 * const bound = bindRegistry(options.registry, (reg) => new ConsulIndex(reg, clock), closedError);
 * const index = await bound.get();
 */
export function bindRegistry<T extends BoundState>(
  given: RegistryApi | undefined,
  build: (registry: RegistryApi) => T,
  closedError: () => Error,
): RegistryBinding<T> {
  let state: T | undefined = given === undefined ? undefined : build(given);
  const lease = given === undefined ? leaseDefaultRegistry() : undefined;
  let building: Promise<T> | undefined;
  let closed: Promise<void> | undefined;

  const get = (): Promise<T> => {
    if (closed !== undefined) return Promise.reject(closedError());
    if (state !== undefined) return Promise.resolve(state);
    building ??= lease!.get().then(
      (registry) => {
        if (closed !== undefined) throw closedError();
        state ??= build(registry);
        return state;
      },
      (err: unknown) => {
        // The store may come back: the next request tries again.
        building = undefined;
        throw err;
      },
    );
    return building;
  };

  return {
    get,
    peek: () => state,
    close() {
      closed ??= (async () => {
        if (state === undefined && building !== undefined) await building.catch(() => undefined);
        await state?.close();
        await lease?.release();
      })();
      return closed;
    },
  };
}

/**
 * Gives a compatibility API's request handler its lifecycle: `close()` (the binding's),
 * `ready()` (resolves once the state is built) and `Symbol.asyncDispose`.
 * @example return withBinding(handler, bound);
 */
export function withBinding<H extends object>(
  handler: H,
  bound: RegistryBinding<BoundState>,
): H & { close(): Promise<void>; ready(): Promise<void> } & AsyncDisposable {
  const close = (): Promise<void> => bound.close();
  const ready = async (): Promise<void> => {
    await bound.get();
  };
  return Object.assign(handler, { close, ready, [Symbol.asyncDispose]: close });
}

/**
 * Matches a request target's path (the query left out) against a compatibility API's `path`
 * pattern; the match and the parsed query, or `undefined` when the path is not the API's.
 * @example const target = matchTarget(req.url ?? '/', /^\/v1\/agent\/(\w+)$/);
 */
export function matchTarget(url: string, path: RegExp): { match: RegExpExecArray; query: URLSearchParams } | undefined {
  const q = url.indexOf('?');
  const match = path.exec(q === -1 ? url : url.slice(0, q));
  if (match === null) return undefined;
  return { match, query: new URLSearchParams(q === -1 ? '' : url.slice(q + 1)) };
}
