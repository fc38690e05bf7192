/**
 * Response-header timeouts for every request in flight, on ONE timer.
 *
 * undici's own `headersTimeout` runs on its coarse "fast timers" (a 300 ms timeout fires after
 * about a second), and a timer per request would cost an allocation and a closure each. Requests
 * with the same timeout expire in the order they were sent, so each timeout value keeps a FIFO
 * of (request, deadline) and a single timer wakes for the oldest deadline, at most every
 * `granularity` ms. A request that gets its headers clears its slot, and cleared slots at the
 * head are dropped as new requests arrive, so finished requests are not kept alive.
 */
import type { Clock, TimerHandle } from '../clock.js';

/** A request that can time out. The two `deadline*` fields belong to {@link HeaderDeadlines}. */
export interface DeadlineTarget {
  /** Where the pending entry is; undefined when there is none. */
  deadlineFifo: unknown;
  deadlineSlot: number;
  /** No response headers arrived in time. */
  headersTimedOut(): void;
}

class Fifo {
  readonly targets: (DeadlineTarget | undefined)[] = [];
  readonly deadlines: number[] = [];
  /** First live index. */
  head = 0;
  /** Absolute slot number of `targets[0]` (grows as the arrays are compacted). */
  base = 0;

  /** Drops cleared entries at the head; compacts once most of the arrays is dead. */
  trim(): void {
    const { targets } = this;
    let h = this.head;
    while (h < targets.length && targets[h] === undefined) h++;
    if (h === targets.length) {
      this.base += h;
      targets.length = 0;
      this.deadlines.length = 0;
      h = 0;
    } else if (h > 1024 && h * 2 > targets.length) {
      targets.splice(0, h);
      this.deadlines.splice(0, h);
      this.base += h;
      h = 0;
    }
    this.head = h;
  }
}

/**
 * The deadline wheel of one proxy.
 * @example
 * const deadlines = new HeaderDeadlines(realClock);
 * deadlines.add(exchange, 30_000); // once the request is sent
 * deadlines.clear(exchange);       // when its headers arrive
 */
export class HeaderDeadlines {
  readonly #clock: Clock;
  readonly #fifos = new Map<number, Fifo>();
  #timer: TimerHandle | undefined;
  /** When the armed timer fires (clock ms). */
  #timerAt = 0;
  #closed = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Requests currently waiting for headers. */
  get pending(): number {
    let n = 0;
    for (const f of this.#fifos.values()) for (let i = f.head; i < f.targets.length; i++) if (f.targets[i]) n++;
    return n;
  }

  /** Starts the clock for `target` (after its request was sent). */
  add(target: DeadlineTarget, timeoutMs: number): void {
    if (this.#closed) return;
    let fifo = this.#fifos.get(timeoutMs);
    if (fifo === undefined) {
      fifo = new Fifo();
      this.#fifos.set(timeoutMs, fifo);
    }
    fifo.trim();
    const deadline = this.#clock.now() + timeoutMs;
    target.deadlineFifo = fifo;
    target.deadlineSlot = fifo.base + fifo.targets.length;
    fifo.targets.push(target);
    fifo.deadlines.push(deadline);
    // A shorter timeout than the armed one (another route's) must not wait for the longer.
    if (this.#timer === undefined || deadline + 5 < this.#timerAt) {
      this.#timer?.cancel();
      this.#arm(deadline);
    }
  }

  /** Stops the clock for `target` (headers arrived, or the attempt ended). */
  clear(target: DeadlineTarget): void {
    const fifo = target.deadlineFifo as Fifo | undefined;
    if (fifo === undefined) return;
    target.deadlineFifo = undefined;
    const i = target.deadlineSlot - fifo.base;
    if (i >= fifo.head && i < fifo.targets.length && fifo.targets[i] === target) fifo.targets[i] = undefined;
  }

  /** Stops the timer; pending requests no longer time out here. */
  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#fifos.clear();
  }

  #arm(at: number): void {
    const now = this.#clock.now();
    // Waking more often than every few ms buys precision nobody needs and costs CPU under load.
    const wait = Math.max(at - now, 5);
    this.#timerAt = now + wait;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), wait);
  }

  #fire(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    const now = this.#clock.now();
    let next = Number.POSITIVE_INFINITY;
    for (const fifo of this.#fifos.values()) {
      const { targets, deadlines } = fifo;
      fifo.trim();
      while (fifo.head < targets.length && deadlines[fifo.head]! <= now) {
        const target = targets[fifo.head];
        targets[fifo.head] = undefined;
        fifo.head++;
        if (target !== undefined) {
          target.deadlineFifo = undefined;
          target.headersTimedOut();
        }
      }
      fifo.trim();
      if (fifo.head < targets.length && deadlines[fifo.head]! < next) next = deadlines[fifo.head]!;
    }
    if (next !== Number.POSITIVE_INFINITY && this.#timer === undefined) this.#arm(next);
  }
}
