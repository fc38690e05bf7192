/**
 * Self-preservation (README "Registry backends", Eureka's safety valve made observable): when a large share
 * of the fleet's leases expire within one sweep, the likelier cause is the store or the network,
 * not a mass crash, so eviction freezes and those instances stay in routing until they come back
 * or a time limit passes.
 */
import type { SelfPreservationState } from './registry-api.js';

/** Options for {@link SelfPreservation}. */
export interface SelfPreservationOptions {
  /** Freeze when more than this fraction of the instances live at the previous sweep expire in one sweep. */
  threshold: number;
  /** After this long frozen, thaw anyway so truly dead instances leave. */
  maxMs: number;
  /** Fewest expiries in one sweep that can freeze; one crash is never a mass event. */
  minExpired: number;
}

/** What the registry must do after a sweep. */
export interface SweepDecision {
  /** Keys to evict now (emit `expired` for each). */
  evict: string[];
  /** Set when the state changed at this sweep. */
  transition?: 'freeze' | 'thaw';
}

/** What a sweep looks at. */
export interface SweepInput {
  now: number;
  /** Keys whose lease expired and that are not held yet. */
  newlyExpired: readonly string[];
  /** All instances in the cache (live, expired and held). */
  total: number;
  /** Whether a held key is still in the cache with an expired lease. */
  stillExpired(key: string): boolean;
  /**
   * Whether the store answers. While it does not, no lease can be renewed through this gateway,
   * so any expiry freezes eviction and only time thaws it. @default true
   */
  storeHealthy?: boolean;
}

/**
 * The freeze/thaw state machine, fed once per sweep. Pure bookkeeping: no timers, no I/O.
 * @example
 * const sp = new SelfPreservation({ threshold: 0.15, maxMs: 270_000, minExpired: 2 });
 * const { evict } = sp.sweep({ now, newlyExpired, total, stillExpired });
 */
export class SelfPreservation {
  readonly #opts: SelfPreservationOptions;
  readonly #held = new Set<string>();
  #lastLive = 0;
  #since: number | undefined;
  #reason: string | undefined;

  constructor(options: SelfPreservationOptions) {
    this.#opts = options;
  }

  /** Whether eviction is frozen. */
  get active(): boolean {
    return this.#since !== undefined;
  }

  /** Whether `key` is kept in routing although its lease expired. */
  isHeld(key: string): boolean {
    return this.#held.has(key);
  }

  /** The state shown by `/health` (a fresh object). */
  state(): SelfPreservationState {
    return this.#since === undefined
      ? { active: false, preserved: 0 }
      : { active: true, reason: this.#reason, since: this.#since, preserved: this.#held.size };
  }

  /** Sets the live count the next sweep compares against (after a full re-list). */
  baseline(live: number): void {
    this.#lastLive = live;
  }

  /** Forgets a held key (the instance was deregistered or replaced). */
  release(key: string): void {
    this.#held.delete(key);
  }

  /** Decides what one sweep evicts, freezing or thawing as needed. */
  sweep(input: SweepInput): SweepDecision {
    for (const key of [...this.#held]) if (!input.stillExpired(key)) this.#held.delete(key);
    const expired = input.newlyExpired.length;
    const storeHealthy = input.storeHealthy ?? true;
    if (this.#since === undefined) {
      const live = this.#lastLive;
      const pct = live === 0 ? 100 : Math.round((expired / live) * 100);
      const massExpiry = expired >= this.#opts.minExpired && live >= 2 && expired / live > this.#opts.threshold;
      if (massExpiry || (!storeHealthy && expired > 0)) {
        this.#since = input.now;
        this.#reason = storeHealthy
          ? `${expired} of ${live} instances (${pct}%) expired within one sweep`
          : `${expired} of ${live} instances (${pct}%) expired while the store is unreachable`;
        for (const key of input.newlyExpired) this.#held.add(key);
        return { evict: [], transition: 'freeze' };
      }
      this.#lastLive = input.total - expired;
      return { evict: [...input.newlyExpired] };
    }
    for (const key of input.newlyExpired) this.#held.add(key);
    const heldShare = input.total === 0 ? 0 : this.#held.size / input.total;
    if ((storeHealthy && heldShare <= this.#opts.threshold) || input.now - this.#since >= this.#opts.maxMs) {
      const evict = [...this.#held];
      this.#held.clear();
      this.#since = undefined;
      this.#reason = undefined;
      this.#lastLive = input.total - evict.length;
      return { evict, transition: 'thaw' };
    }
    return { evict: [] };
  }
}
