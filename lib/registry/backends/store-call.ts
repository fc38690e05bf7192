/**
 * One store operation of a registry backend, bounded in time and mapped to coded errors: a
 * caller gets its answer or `ERR_FG_STORE_UNAVAILABLE` within `limitMs`, never a hang, whatever
 * the client library does while the store is down.
 */
import type { Clock, TimerHandle } from '../../clock.js';
import { FleetgateError } from '../../errors.js';
import { backendClosed, storeUnavailable } from './registration-input.js';

/** How {@link storeCall} runs an operation. */
export interface StoreCallOptions {
  clock: Clock;
  /** The whole operation's bound, in ms. */
  limitMs: number;
  /** Backend type for `ERR_FG_CLOSED`, e.g. `REDIS`. */
  type: string;
  /** Store name for `ERR_FG_STORE_UNAVAILABLE`, e.g. `redis`. */
  store: string;
  isClosed(): boolean;
  /** Awaited (within the bound) before the operation, e.g. a subscription being set up. */
  gate?: Promise<void> | undefined;
}

/**
 * Runs `op`: `ERR_FG_CLOSED` on a closed backend, coded errors passed through, any other failure
 * (or no answer within the bound) as `ERR_FG_STORE_UNAVAILABLE` with the cause attached.
 */
export async function storeCall<T>(o: StoreCallOptions, op: () => Promise<T>): Promise<T> {
  if (o.isClosed()) throw backendClosed(o.type);
  let timer: TimerHandle | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = o.clock.setTimeout(() => reject(new Error(`no answer within ${o.limitMs} ms`)), o.limitMs);
  });
  try {
    return await Promise.race([
      (async () => {
        if (o.gate !== undefined) await o.gate;
        return op();
      })(),
      timeout,
    ]);
  } catch (err) {
    if (o.isClosed() && !(err instanceof FleetgateError)) throw backendClosed(o.type);
    throw storeUnavailable(o.store, err);
  } finally {
    timer?.cancel();
  }
}
