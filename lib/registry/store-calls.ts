/**
 * The registry's calls to its store: each one bounded by a deadline, failed at once while the
 * store is known `down`, and failed when a probe finds the store down while it is in flight.
 * Owns the {@link StoreMonitor} (the probe loop and the up/down/resyncing state) and the last
 * call failure that health reports. docs/health.md, "Store liveness".
 */
import type { Clock } from '../clock.js';
import { FleetgateError, isFleetgateError } from '../errors.js';
import type { Logger } from '../logger.js';
import { CallDeadlines } from './call-deadlines.js';
import type { RegistryBackend } from './model.js';
import { describeError, storeUnavailableError } from './store-errors.js';
import { type StoreLivenessReport, StoreMonitor, type StoreState } from './store-monitor.js';

/** Options for {@link StoreCalls}. */
export interface StoreCallsOptions {
  /** The store: its type names it in messages, `probe()` feeds liveness, `reconnect()` renews sockets. */
  backend: Pick<RegistryBackend, 'type' | 'probe' | 'reconnect'>;
  clock: Clock;
  logger: Logger;
  /** Pause between liveness probes, in ms. */
  probeIntervalMs: number;
  /** A probe not answered within this marks the store `down`, in ms. */
  probeTimeoutMs: number;
  /** Bound on each call, in ms. */
  callTimeoutMs: number;
  /** Re-lists the store in full; the store is `up` again once it resolves. */
  relist: () => Promise<void>;
  /** Every store state transition. */
  onStateChange: (state: StoreState) => void;
}

/**
 * Store calls with deadlines and the store's liveness state.
 * @example
 * const calls = new StoreCalls({ backend, clock, logger, probeIntervalMs: 250, probeTimeoutMs: 500, callTimeoutMs: 900, relist, onStateChange });
 * calls.start();
 * const instance = await calls.call(() => backend.heartbeat(service, id, lease));
 */
export class StoreCalls {
  readonly #o: StoreCallsOptions;
  readonly #monitor: StoreMonitor;
  #failure: string | undefined;
  #failureAt = 0;
  /** The calls in flight, on one deadline timer; a store found down fails them at once. */
  readonly #deadlines: CallDeadlines;

  constructor(options: StoreCallsOptions) {
    this.#o = options;
    const { backend } = options;
    this.#deadlines = new CallDeadlines(options.clock, options.callTimeoutMs, `${backend.type} store`);
    this.#monitor = new StoreMonitor({
      type: backend.type,
      probe: backend.probe?.bind(backend),
      clock: options.clock,
      logger: options.logger,
      intervalMs: options.probeIntervalMs,
      timeoutMs: options.probeTimeoutMs,
      resync: async () => {
        // Sockets from before a partition may sit in TCP retransmission backoff for seconds.
        backend.reconnect?.();
        await options.relist();
      },
      onChange: (state) => {
        if (state.state === 'down') {
          const err = new FleetgateError('ERR_FG_STORE_UNAVAILABLE', state.reason ?? 'the store is down');
          this.#deadlines.failAll(err);
        }
        options.onStateChange(state);
      },
      onAnswer: ({ startedAt }) => {
        if (this.#failure !== undefined && startedAt >= this.#failureAt) this.#failure = undefined;
      },
    });
  }

  /** Starts probing the store. */
  start(): void {
    this.#monitor.start();
  }

  /** Stops probing. Idempotent. */
  close(): void {
    this.#monitor.close();
    this.#deadlines.close();
  }

  /** Where the store stands (a copy). */
  state(): StoreState {
    return this.#monitor.state();
  }

  /** The store's liveness figures for metrics. */
  liveness(): StoreLivenessReport {
    return this.#monitor.liveness();
  }

  /** Why the last call failed, until a call or a probe started after it succeeds. */
  get failure(): string | undefined {
    return this.#failure;
  }

  /**
   * Runs a backend call within `callTimeoutMs`; a non-Fleetgate failure means the store is down:
   * `ERR_FG_STORE_UNAVAILABLE`. While the store is known `down` it fails at once, and a call in
   * flight when the store is found down fails then.
   */
  async call<T>(fn: () => Promise<T>): Promise<T> {
    const store = this.#monitor.state();
    if (store.state === 'down') {
      throw new FleetgateError('ERR_FG_STORE_UNAVAILABLE', store.reason ?? `the ${this.#o.backend.type} store is down`);
    }
    try {
      const result = await this.#deadlines.run(fn);
      this.#failure = undefined;
      this.#monitor.answered();
      return result;
    } catch (err) {
      if (isFleetgateError(err) && err.code !== 'ERR_FG_STORE_UNAVAILABLE') {
        this.#failure = undefined; // the store answered, with a refusal
        this.#monitor.answered();
        throw err;
      }
      this.noteFailure(err);
      throw isFleetgateError(err) ? err : storeUnavailableError(this.#o.backend.type, err);
    }
  }

  /** A store call failed (also one made outside {@link call}): remember why and probe now. */
  noteFailure(err: unknown): void {
    this.#failure = `the ${this.#o.backend.type} store failed (${describeError(err)}); serving the last-known routes`;
    this.#failureAt = this.#o.clock.now();
    // While the store is known down its transition was logged once; no line per failed call.
    if (this.#monitor.state().state !== 'down') this.#o.logger.warn(`fleetgate registry: ${this.#failure}`);
    this.#monitor.suspect();
  }
}
