/**
 * What this gateway just wrote, kept briefly for the echo of the write on the store's watch: a
 * store backend hands the watchers the value it already holds instead of decoding the event
 * again (redis-heartbeat-echoes.ts, etcd.ts). At thousands of heartbeats a second the second
 * decode of every renewal cost CPU and garbage.
 *
 * Entries live at least one and at most two generations of `generationMs` (clock time, checked
 * on each write: no timer). An echo that never comes (a watch reconnecting, an echo that arrived
 * before the write's answer) leaves nothing behind for long; its event is decoded as before.
 */
import type { Clock } from '../../clock.js';

/** Values by key for a generation or two, each taken at most once. */
export class EchoBook<T> {
  readonly #clock: Clock;
  readonly #generationMs: number;
  #current = new Map<string, T>();
  #previous = new Map<string, T>();
  #rotatedAt: number;

  /**
   * @param generationMs how long an entry waits for its echo, at least (at most twice this).
   * @example const book = new EchoBook<Instance>(clock); book.remember(key, value); book.take(key);
   */
  constructor(clock: Clock, generationMs = 1000) {
    this.#clock = clock;
    this.#generationMs = generationMs;
    this.#rotatedAt = clock.now();
  }

  /** Entries waiting for their echo. */
  get size(): number {
    return this.#current.size + this.#previous.size;
  }

  /** Keeps `value` under `key` until taken or two generations old. */
  remember(key: string, value: T): void {
    const now = this.#clock.now();
    if (now - this.#rotatedAt >= this.#generationMs) {
      this.#previous = this.#current;
      this.#current = new Map();
      this.#rotatedAt = now;
    }
    this.#current.set(key, value);
  }

  /** The value under `key`, forgotten as it is handed out; undefined when none. */
  take(key: string): T | undefined {
    const hit = this.#current.get(key);
    if (hit !== undefined) {
      this.#current.delete(key);
      return hit;
    }
    const old = this.#previous.get(key);
    if (old !== undefined) this.#previous.delete(key);
    return old;
  }

  /** Forgets everything (the watch reconnected: the echoes may never come). */
  clear(): void {
    this.#current.clear();
    this.#previous.clear();
  }
}
