/**
 * The active liveness probe of a registry store. A store that stops answering without closing
 * its sockets (a partition, a paused VM, a GC stall) leaves every client library believing it
 * is connected; only a round trip with a deadline tells. {@link StoreLiveness} sends one every
 * `intervalMs` (the backend's `probe()`: Redis PING, an etcd range read) and calls the store
 * down the first time one is not answered within `timeoutMs`, so a hang is known within
 * `intervalMs + timeoutMs` (750 ms by default). docs/health.md, "Store liveness".
 */
import type { Clock, TimerHandle } from '../clock.js';
import { withDeadline } from './store-deadline.js';
import { describeError } from './store-errors.js';

/** What one probe round found. */
export interface ProbeOutcome {
  ok: boolean;
  /** When the probe was sent (clock time). */
  startedAt: number;
  /** Clock time from sending the probe to its answer, in ms (answered probes only). */
  roundTripMs?: number;
  /** Why it failed, when it did. */
  reason?: string;
}

/** Options for {@link StoreLiveness}. */
export interface StoreLivenessOptions {
  /** One cheap round trip to the store; rejects when the store refuses it. Required. */
  probe: () => Promise<void>;
  /** Timer source. Required. */
  clock: Clock;
  /** Pause between the end of one probe and the next. @default 250 */
  intervalMs: number;
  /** A probe not answered within this is a failure. @default 500 */
  timeoutMs: number;
  /** Called after every probe, in order. Required. */
  onProbe: (outcome: ProbeOutcome) => void;
}

/** Defaults of {@link StoreLivenessOptions}. Frozen. */
export const STORE_LIVENESS_DEFAULTS: Readonly<Pick<StoreLivenessOptions, 'intervalMs' | 'timeoutMs'>> = Object.freeze({
  intervalMs: 250,
  timeoutMs: 500,
});

/** Most probes in flight at once while the store fails to answer. */
const MAX_IN_FLIGHT = 3;

/**
 * A probe loop on the injectable clock. A probe goes out every `intervalMs` while none is in
 * flight; while the store fails to answer one goes out every `intervalMs` regardless (up to
 * three in flight), so with fresh sockets per probe a healed store is seen within about
 * `intervalMs`, not after the previous probe's deadline. Outcomes older than one already
 * reported are dropped. {@link check} asks for a probe now (e.g. after a store call failed).
 * @example
 * const liveness = new StoreLiveness({ probe: () => backend.probe(), clock, onProbe: (o) => console.log(o.ok) });
 * liveness.start();
 */
export class StoreLiveness {
  readonly #o: StoreLivenessOptions;
  #timer: TimerHandle | undefined;
  #inFlight = 0;
  #sent = 0;
  #reported = 0;
  #failing = false;
  #stopped = true;

  constructor(options: Partial<StoreLivenessOptions> & Pick<StoreLivenessOptions, 'probe' | 'clock' | 'onProbe'>) {
    const o = { ...STORE_LIVENESS_DEFAULTS, ...dropUndefined(options) } as StoreLivenessOptions;
    if (!(o.intervalMs > 0) || !(o.timeoutMs > 0)) {
      throw new TypeError('StoreLiveness: intervalMs and timeoutMs must be > 0');
    }
    this.#o = o;
  }

  /** Starts probing: the first probe goes out at once. Idempotent. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#timer = this.#o.clock.setInterval(() => this.check(), this.#o.intervalMs);
    this.check();
  }

  /** Sends a probe now, unless one is in flight while the store answers (its deadline tells soon enough). */
  check(): void {
    if (this.#stopped) return;
    if (this.#inFlight > 0 && (!this.#failing || this.#inFlight >= MAX_IN_FLIGHT)) return;
    void this.#round();
  }

  /** Stops probing; probes in flight are left to settle and their outcomes dropped. Idempotent. */
  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  async #round(): Promise<void> {
    const { clock, timeoutMs } = this.#o;
    const seq = ++this.#sent;
    this.#inFlight++;
    const startedAt = clock.now();
    let outcome: ProbeOutcome;
    try {
      await withDeadline(clock, timeoutMs, this.#o.probe, 'liveness probe');
      outcome = { ok: true, startedAt, roundTripMs: clock.now() - startedAt };
    } catch (err) {
      outcome = { ok: false, startedAt, reason: describeError(err) };
    } finally {
      this.#inFlight--;
    }
    if (this.#stopped || seq < this.#reported) return;
    this.#reported = seq;
    this.#failing = !outcome.ok;
    this.#o.onProbe(outcome);
  }
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
