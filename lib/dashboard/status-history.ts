/**
 * Status history per instance for the dashboard: the status changes of each instance (not one
 * sample per second), so a quiet fleet costs nothing per tick. Bounded: `maxMarks` changes per
 * instance and `maxInstances` instances (the oldest tracked is dropped first).
 */
import type { StatusMark } from './page-model.js';

/** Options of {@link StatusHistory}. */
export interface StatusHistoryOptions {
  /** Changes kept per instance. @default 32 */
  maxMarks: number;
  /** Instances tracked. @default 10000 */
  maxInstances: number;
}

/**
 * @example
 * const history = new StatusHistory();
 * history.mark('orders/o-1', 'UP', Date.now());
 * history.window('orders/o-1', Date.now() - 60_000); // [{ at, status: 'UP' }]
 */
export class StatusHistory {
  readonly #maxMarks: number;
  readonly #maxInstances: number;
  readonly #marks = new Map<string, StatusMark[]>();

  constructor(options: Partial<StatusHistoryOptions> = {}) {
    this.#maxMarks = Math.max(2, options.maxMarks ?? 32);
    this.#maxInstances = Math.max(1, options.maxInstances ?? 10_000);
  }

  /** Records that `key` entered `status` at `at`; a repeat of the current status is ignored. */
  mark(key: string, status: string, at: number): void {
    const marks = this.#marks.get(key);
    if (marks === undefined) {
      if (this.#marks.size >= this.#maxInstances) {
        const oldest = this.#marks.keys().next().value;
        if (oldest !== undefined) this.#marks.delete(oldest);
      }
      // Created holding its first mark: an empty array's first push reserves room for 17 (~0.1 KB per instance).
      this.#marks.set(key, [{ at, status }]);
      return;
    }
    if (marks.at(-1)?.status === status) return;
    marks.push({ at, status });
    if (marks.length > this.#maxMarks) marks.splice(0, marks.length - this.#maxMarks);
  }

  /** Forgets `key` (it left the registry). */
  forget(key: string): void {
    this.#marks.delete(key);
  }

  /** How many instances are tracked. */
  get size(): number {
    return this.#marks.size;
  }

  /**
   * The changes since `from`, oldest first, led by the status in force at `from` (dated `from`);
   * `fallback` (dated `from`) when nothing was recorded.
   */
  window(key: string, from: number, fallback?: string): StatusMark[] {
    const marks = this.#marks.get(key);
    if (marks === undefined || marks.length === 0)
      return fallback === undefined ? [] : [{ at: from, status: fallback }];
    const out: StatusMark[] = [];
    let before: StatusMark | undefined;
    for (const m of marks) {
      if (m.at <= from) before = m;
      else out.push(m);
    }
    if (before !== undefined) out.unshift({ at: from, status: before.status });
    return out;
  }
}
