/**
 * The registry's view of its store: `up`, `down` (a liveness probe went unanswered) or
 * `resyncing` (it answers again; connections are renewed and the cache re-listed in full before
 * it counts as `up`). One log line and one `onChange` per transition. docs/health.md,
 * "Store liveness".
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { type ProbeOutcome, StoreLiveness } from './store-liveness.js';

/** Where the store stands. */
export type StoreCondition = 'up' | 'down' | 'resyncing';

/** The store's state as {@link import('./registry.js').Registry.storeState} reports it. */
export interface StoreState {
  /** `up`: answering and in sync; `down`: not answering; `resyncing`: answering, full re-list under way. */
  state: StoreCondition;
  /** Clock time of the latest transition. */
  since: number;
  /** Why it is not `up`. */
  reason?: string;
  /** Whether the store is probed at all (backends without `probe()`, e.g. in-memory, are always `up`). */
  probed: boolean;
}

/** The liveness figures of a store, for metrics (read at scrape time). */
export interface StoreLivenessReport {
  /** Whether the store is probed at all (in-memory is not). */
  probed: boolean;
  /** Whether the store answers (state `up` or `resyncing`; `down` is not live). */
  live: boolean;
  /** Round trip of the latest answered probe, in ms; undefined before the first answer or without probes. */
  lastRoundTripMs: number | undefined;
  /** Time since the store last answered (a probe or a store call), in ms; undefined before the first answer. */
  lastSuccessAgeMs: number | undefined;
}

/** Options for {@link StoreMonitor}. */
export interface StoreMonitorOptions {
  /** Backend type for messages, e.g. `REDIS`. */
  type: string;
  /** The backend's probe; absent → always `up`. */
  probe: (() => Promise<void>) | undefined;
  clock: Clock;
  logger: Logger;
  intervalMs: number;
  timeoutMs: number;
  /** Renews connections and re-lists the store; the store is `up` once it resolves. */
  resync: () => Promise<void>;
  /** Every transition, after it is logged. */
  onChange: (state: StoreState) => void;
  /** Every successful probe (e.g. to clear a stale call failure). */
  onAnswer: (outcome: ProbeOutcome) => void;
}

/**
 * The store state machine fed by a {@link StoreLiveness} probe loop.
 * @example
 * const monitor = new StoreMonitor({ type: 'REDIS', probe: () => backend.probe(), clock, logger, intervalMs: 250, timeoutMs: 500, resync, onChange, onAnswer });
 * monitor.start();
 */
export class StoreMonitor {
  readonly #o: StoreMonitorOptions;
  readonly #liveness: StoreLiveness | undefined;
  #state: StoreState;
  #downSince: number | undefined;
  #resyncing: Promise<void> | undefined;
  #closed = false;
  #lastRoundTripMs: number | undefined;
  #lastSuccessAt: number | undefined;

  constructor(options: StoreMonitorOptions) {
    this.#o = options;
    this.#state = Object.freeze({ state: 'up', since: options.clock.now(), probed: options.probe !== undefined });
    const probe = options.probe;
    this.#liveness =
      probe === undefined
        ? undefined
        : new StoreLiveness({
            probe,
            clock: options.clock,
            intervalMs: options.intervalMs,
            timeoutMs: options.timeoutMs,
            onProbe: (outcome) => this.#onProbe(outcome),
          });
  }

  /** Starts probing. */
  start(): void {
    this.#liveness?.start();
  }

  /**
   * The current state: a frozen snapshot, replaced (never changed) at each transition, so the
   * store calls and cache reads that ask on every heartbeat share it instead of copying it.
   */
  state(): StoreState {
    return this.#state;
  }

  /** A store call succeeded (the store answered, also with a refusal): its age restarts. */
  answered(): void {
    this.#lastSuccessAt = this.#o.clock.now();
  }

  /** Liveness figures for metrics: live or not, the last probe's round trip, the age of the last answer. */
  liveness(): StoreLivenessReport {
    const at = this.#lastSuccessAt;
    return {
      probed: this.#liveness !== undefined,
      live: this.#state.state !== 'down',
      lastRoundTripMs: this.#lastRoundTripMs,
      lastSuccessAgeMs: at === undefined ? undefined : Math.max(0, this.#o.clock.now() - at),
    };
  }

  /** A store call failed: probe now rather than at the next tick. */
  suspect(): void {
    this.#liveness?.check();
  }

  /** Stops probing. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#liveness?.stop();
  }

  #onProbe(outcome: ProbeOutcome): void {
    if (this.#closed) return;
    if (!outcome.ok) {
      if (this.#state.state !== 'down') {
        this.#downSince ??= this.#o.clock.now();
        const reason = `the ${this.#o.type} store does not answer (${outcome.reason}); serving the last-known routes`;
        this.#set('down', reason, () => this.#o.logger.warn(`fleetgate registry: store down: ${reason}`));
      }
      return;
    }
    this.#lastRoundTripMs = outcome.roundTripMs;
    this.#lastSuccessAt = this.#o.clock.now();
    this.#o.onAnswer(outcome);
    if (this.#state.state === 'down') {
      this.#set('resyncing', `the ${this.#o.type} store answers again; re-listing it in full`, () =>
        this.#o.logger.info(`fleetgate registry: store answering again; resyncing`),
      );
    }
    if (this.#state.state === 'resyncing') this.#resync();
  }

  #resync(): void {
    if (this.#resyncing !== undefined) return;
    this.#resyncing = this.#o
      .resync()
      .then(
        () => {
          if (this.#closed || this.#state.state !== 'resyncing') return;
          const outage = this.#downSince === undefined ? 0 : this.#o.clock.now() - this.#downSince;
          this.#downSince = undefined;
          this.#set('up', undefined, () =>
            this.#o.logger.info(`fleetgate registry: store up again after ${outage} ms; full resync done`),
          );
        },
        // Still resyncing: the next successful probe tries again.
        () => {},
      )
      .finally(() => {
        this.#resyncing = undefined;
      });
  }

  #set(state: StoreCondition, reason: string | undefined, log: () => void): void {
    this.#state = Object.freeze({
      state,
      since: this.#o.clock.now(),
      ...(reason === undefined ? {} : { reason }),
      probed: this.#liveness !== undefined,
    });
    log();
    this.#o.onChange(this.state());
  }
}
