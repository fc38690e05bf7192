/**
 * How the etcd registry backend runs each operation: closed check, a brief wait for a watch being
 * set up (writes made after `watch()` must reach the watcher), the time bound, error mapping, and
 * whether the latest call failed (the backend's `isConnected()`).
 */
import type { Clock } from '../../clock.js';
import { isFleetgateError } from '../../errors.js';
import type { EtcdWatch } from './etcd-watch.js';
import { storeCall } from './store-call.js';

/** Options for {@link EtcdCalls}. */
export interface EtcdCallsOptions {
  clock: Clock;
  /** Bound on each whole operation, in ms. */
  limitMs: number;
  isClosed: () => boolean;
  /** The backend's watch, once it has one. */
  watch: () => EtcdWatch | undefined;
}

/** The longest an operation waits for a watch being set up before going ahead anyway. */
const WATCH_GATE_MS = 1000;

/**
 * Runs the backend's operations.
 * @example const calls = new EtcdCalls({ clock, limitMs: 5000, isClosed, watch: () => this.#watch });
 */
export class EtcdCalls {
  readonly #o: EtcdCallsOptions;
  #failing = false;

  constructor(options: EtcdCallsOptions) {
    this.#o = options;
  }

  /** Whether the latest call failed for want of an answer (cleared by the next success). */
  get failing(): boolean {
    return this.#failing;
  }

  /** Runs `op` bounded and error-mapped (`ERR_FG_STORE_UNAVAILABLE`, `ERR_FG_CLOSED`). */
  async run<T>(op: () => Promise<T>): Promise<T> {
    const o = this.#o;
    const watch = o.watch();
    // Once established, no gate: a timer per call would fire a second later for nothing.
    let timer: { cancel(): void } | undefined;
    const gate =
      watch === undefined || watch.isEstablished
        ? undefined
        : Promise.race([
            watch.established(),
            new Promise<void>((resolve) => {
              timer = o.clock.setTimeout(resolve, WATCH_GATE_MS);
            }),
          ]);
    try {
      const result = await storeCall(
        { clock: o.clock, limitMs: o.limitMs, type: 'ETCD', store: 'etcd', isClosed: o.isClosed, gate },
        op,
      );
      this.#failing = false;
      return result;
    } catch (err) {
      if (isFleetgateError(err, 'ERR_FG_STORE_UNAVAILABLE') && err.cause !== undefined) this.#failing = true;
      throw err;
    } finally {
      timer?.cancel();
    }
  }
}
