/**
 * When each instance's next probe is due, for every instance at once: a binary heap ordered by
 * due time behind one timer of the injectable clock, armed for the earliest. A Node timer per
 * instance costs ~0.4 KB of heap (the Timeout, its closures and the cancel handle); a heap slot
 * costs three numbers on the record. An item fires once the clock reaches its due time, never
 * before, and items due together fire in the order they were scheduled.
 *
 * With a granularity `g` the timer is armed for the first due time rounded up to a multiple of
 * `g`, and everything due by then fires in that one wake-up: an item fires at most `g` late, and
 * the process wakes at most once per `g` however many items fall due (10,000 instances probed
 * hourly are 2.8 probes a second, each its own wake-up without it).
 */
import type { Clock, TimerHandle } from '../clock.js';

/** The fields the schedule keeps on each item (the health checker's record). */
export interface ScheduleSlot {
  /** When it is due, in clock ms. */
  due: number;
  /** Scheduling order, for items due at the same time. */
  seq: number;
  /** Its index in the heap; -1 when not scheduled. */
  slot: number;
}

/**
 * Items with a due time, fired by one timer.
 * @example
 * const schedule = new ProbeSchedule<Entry>(clock, (entry) => probe(entry));
 * schedule.add(entry, 30_000);
 */
export class ProbeSchedule<T extends ScheduleSlot> {
  readonly #clock: Clock;
  readonly #fire: (item: T) => void;
  readonly #heap: T[] = [];
  readonly #granularityMs: number;
  #seq = 0;
  #timer: TimerHandle | undefined;
  /** When the armed timer fires (`Infinity`: none armed). */
  #timerAt = Infinity;

  /**
   * @param fire called with each item once it is due (it is no longer scheduled by then).
   * @param granularityMs wake-ups fall on multiples of it; 0 fires each item at its exact time. @default 0
   */
  constructor(clock: Clock, fire: (item: T) => void, granularityMs = 0) {
    if (!(granularityMs >= 0 && Number.isFinite(granularityMs)))
      throw new RangeError(`granularityMs must be a finite number ≥ 0, got ${granularityMs}`);
    this.#clock = clock;
    this.#fire = fire;
    this.#granularityMs = granularityMs;
  }

  /** Number of items scheduled. */
  get size(): number {
    return this.#heap.length;
  }

  /** Schedules `item` `delayMs` from now, replacing its earlier schedule. O(log n). */
  add(item: T, delayMs: number): void {
    if (item.slot >= 0) this.#removeAt(item.slot);
    item.due = this.#clock.now() + Math.max(0, delayMs);
    item.seq = ++this.#seq;
    item.slot = this.#heap.length;
    this.#heap.push(item);
    this.#up(item.slot);
    this.#arm();
  }

  /** Unschedules `item`; nothing when it is not scheduled. O(log n). */
  cancel(item: T): void {
    if (item.slot < 0) return;
    this.#removeAt(item.slot);
    this.#arm();
  }

  /** Unschedules everything and stops the timer. */
  clear(): void {
    for (const item of this.#heap) item.slot = -1;
    this.#heap.length = 0;
    this.#arm();
  }

  /** Keeps one timer armed for the earliest item: re-armed when an earlier one arrives, stopped when none is left. */
  #arm(): void {
    const first = this.#heap[0];
    if (first === undefined) {
      this.#timer?.cancel();
      this.#timer = undefined;
      this.#timerAt = Infinity;
      return;
    }
    const g = this.#granularityMs;
    const at = g === 0 ? first.due : Math.ceil(first.due / g) * g;
    // A timer due no later than the first item stays: if it fires early, #run re-arms.
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    this.#timer?.cancel();
    this.#timerAt = at;
    this.#timer = this.#clock.setTimeout(() => this.#run(), Math.max(0, at - this.#clock.now()));
  }

  #run(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.#clock.now();
    // Taken out first, then fired: an item a callback schedules again waits for the next turn.
    const due: T[] = [];
    while (this.#heap.length > 0 && this.#heap[0]!.due <= now) {
      const first = this.#heap[0]!;
      this.#removeAt(0);
      due.push(first);
    }
    this.#arm();
    for (const item of due) this.#fire(item);
  }

  #removeAt(i: number): void {
    const heap = this.#heap;
    const removed = heap[i]!;
    removed.slot = -1;
    const last = heap.pop()!;
    if (i === heap.length) return;
    heap[i] = last;
    last.slot = i;
    this.#down(i);
    this.#up(i);
  }

  #before(a: T, b: T): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  #up(i: number): void {
    const heap = this.#heap;
    const item = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
      if (!this.#before(item, parent)) break;
      heap[i] = parent;
      parent.slot = i;
      i = p;
    }
    heap[i] = item;
    item.slot = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const item = heap[i]!;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.#before(heap[r]!, heap[l]!) ? r : l;
      const child = heap[c]!;
      if (!this.#before(child, item)) break;
      heap[i] = child;
      child.slot = i;
      i = c;
    }
    heap[i] = item;
    item.slot = i;
  }
}
