/**
 * A deadline on one store round trip, on the injectable clock: the caller gets the answer or a
 * rejection within `ms`, whatever the client library does with a store that stopped answering.
 *
 * The deadline is decided only after the event loop has turned twice more. When the loop was
 * stalled (a long synchronous task, a GC pause, a descheduled process on a loaded machine) the
 * deadline timer runs in the timers phase before the poll phase reads the answer already waiting
 * in the socket; failing then would call a store that answered in time `down` because the
 * gateway itself was busy. Two turns (not one) also cover clients that deliver an answer from a
 * `setImmediate` of their own (grpc-js). And when the deadline timer itself fires more than
 * `ms / 2` late, the loop was held across the deadline and the call may not even have been
 * written (a connection still to be made, a request queued behind the stall): it gets one fresh
 * window of `ms`. A store that really does not answer is failed within `ms` plus two loop
 * turns, or, across a stall, within twice `ms` plus the stall.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { afterLoopTurns } from './loop-turns.js';

/**
 * Resolves with `op()`'s result, or rejects with `Error('<what>: no answer within <ms> ms')`.
 * A late answer or failure of `op` is dropped (handled, never an unhandled rejection).
 * @example await withDeadline(clock, 500, () => client.ping(), 'PING');
 */
export async function withDeadline<T>(clock: Clock, ms: number, op: () => Promise<T>, what: string): Promise<T> {
  let timer: TimerHandle | undefined;
  let settled = false;
  try {
    return await Promise.race([
      Promise.resolve().then(op),
      new Promise<never>((_, reject) => {
        const arm = (extended: boolean): void => {
          const due = clock.now() + ms;
          timer = clock.setTimeout(() => {
            if (!extended && clock.now() - due > ms / 2) return arm(true);
            afterLoopTurns(2, () => settled || reject(new Error(`${what}: no answer within ${ms} ms`)));
          }, ms);
        };
        arm(false);
      }),
    ]);
  } finally {
    settled = true;
    timer?.cancel();
  }
}
