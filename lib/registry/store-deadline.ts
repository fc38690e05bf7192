/**
 * A deadline on one store round trip, on the injectable clock: the caller gets the answer or a
 * rejection within `ms`, whatever the client library does with a store that stopped answering.
 */
import type { Clock, TimerHandle } from '../clock.js';

/**
 * Resolves with `op()`'s result, or rejects with `Error('<what>: no answer within <ms> ms')`.
 * A late answer or failure of `op` is dropped (handled, never an unhandled rejection).
 * @example await withDeadline(clock, 500, () => client.ping(), 'PING');
 */
export async function withDeadline<T>(clock: Clock, ms: number, op: () => Promise<T>, what: string): Promise<T> {
  let timer: TimerHandle | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(op),
      new Promise<never>((_, reject) => {
        timer = clock.setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    timer?.cancel();
  }
}
