/**
 * Consul's blocking queries: one index per gateway, always ≥ 1 and monotonic, bumped by every
 * registry change that a catalog or health answer can show; a query with `?index=` waits until
 * the index passes it or its `wait` (capped at 10 minutes, plus Consul's jitter of up to
 * wait/16) runs out.
 */
import type { Clock, TimerHandle } from '../../clock.js';
import type { RegistryApi, RegistryChange } from '../../registry/registry-api.js';
import { goDuration } from './consul-registration.js';

/** Longest `wait` honoured. */
export const MAX_WAIT_MS = 10 * 60_000;
/** Consul's default `wait`. */
export const DEFAULT_WAIT_MS = 5 * 60_000;

/** The index of one gateway, fed by the registry's change events. */
export class ConsulIndex {
  #index = 1;
  readonly #waiters = new Set<() => void>();
  readonly #registry: RegistryApi;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #onChange = (c: RegistryChange): void => {
    if (c.type === 'heartbeat') return; // a renewal changes nothing an answer shows
    this.bump();
  };

  constructor(registry: RegistryApi, clock: Clock, random: () => number = Math.random) {
    this.#registry = registry;
    this.#clock = clock;
    this.#random = random;
    registry.on('change', this.#onChange);
  }

  /** The current index (≥ 1). */
  get value(): number {
    return this.#index;
  }

  /** Moves the index on and wakes every waiting query. */
  bump(): void {
    this.#index++;
    for (const wake of [...this.#waiters]) wake();
  }

  /**
   * Resolves at once when `query.index` is absent or already passed, else when the index moves
   * or the wait runs out (or the request goes away: `aborted`).
   */
  async wait(query: URLSearchParams, aborted: Promise<void>): Promise<void> {
    const raw = query.get('index');
    const index = raw === null ? 0 : Number(raw);
    if (!Number.isFinite(index) || index <= 0 || index < this.#index) return;
    const requested = query.get('wait');
    const wait = Math.min(MAX_WAIT_MS, (requested === null ? undefined : goDuration(requested)) ?? DEFAULT_WAIT_MS);
    const jittered = wait + Math.floor(this.#random() * (wait / 16));
    let timer: TimerHandle | undefined;
    let wake: (() => void) | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolve) => {
          wake = resolve;
          this.#waiters.add(resolve);
          timer = this.#clock.setTimeout(resolve, jittered);
        }),
        aborted,
      ]);
    } finally {
      timer?.cancel();
      if (wake !== undefined) this.#waiters.delete(wake);
    }
  }

  /** Stops following the registry and releases every waiting query. */
  close(): void {
    this.#registry.off('change', this.#onChange);
    for (const wake of [...this.#waiters]) wake();
  }
}
