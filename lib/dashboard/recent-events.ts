/**
 * The recent-events column: a ring of the last `capacity` events, newest last.
 */
import type { DashboardEvent } from './page-model.js';

/**
 * @example
 * const events = new RecentEvents(100);
 * events.add({ at: Date.now(), kind: 'registry', target: 'o-1', level: 'good', message: 'registered' });
 */
export class RecentEvents {
  readonly #capacity: number;
  readonly #ring: DashboardEvent[] = [];
  #version = 0;

  /** @param capacity events kept. @default 100 */
  constructor(capacity = 100) {
    this.#capacity = Math.max(1, capacity);
  }

  /** Appends an event, dropping the oldest beyond the capacity. */
  add(event: DashboardEvent): void {
    this.#ring.push(event);
    if (this.#ring.length > this.#capacity) this.#ring.shift();
    this.#version++;
  }

  /** The last `n` events (all by default), newest last. */
  list(n = this.#capacity): DashboardEvent[] {
    return this.#ring.slice(-n);
  }

  /** Grows by one per {@link add}: a cheap "did anything happen" check. */
  get version(): number {
    return this.#version;
  }
}
