/**
 * Keys ordered by the time they fall due, for expiry sweeps that cost what expires rather than
 * what is held: the in-memory backend's lease sweep and the local cache's eviction sweep.
 */

/** Where a key is filed and when it is due. Mutated in place: a renewal allocates nothing. */
interface Filed {
  due: number;
  slot: number;
}

/**
 * A timing wheel: each key is filed in the slot of its due time (`slotMs` wide).
 * {@link takeDue} visits only the slots that have come due since the last call, so a second in
 * which nothing expires costs O(1) whatever the number of keys held.
 *
 * Renewals are lazy: moving a key to a later time only records the new time, and the key is
 * re-filed in its new slot when its old slot comes due (once per lease, not once per renewal).
 * Moving a key earlier files it at once. Due times are compared exactly: a key is never taken
 * before its time, and every key due at or before `now` is taken.
 *
 * @example
 * const wheel = new ExpiryWheel<string>(1000);
 * wheel.schedule('orders\u0000o1', now + 90_000);
 * for (const key of wheel.takeDue(clock.now())) evict(key);
 */
export class ExpiryWheel<K> {
  readonly #slotMs: number;
  readonly #filed = new Map<K, Filed>();
  readonly #slots = new Map<number, Set<K>>();
  /** Every slot below this index is empty. */
  #lowest = Number.POSITIVE_INFINITY;

  /** @param slotMs width of one slot in ms (the sweep interval is a good choice); only cost depends on it. */
  constructor(slotMs: number) {
    if (!(slotMs > 0)) throw new RangeError(`slotMs must be > 0, got ${slotMs}`);
    this.#slotMs = slotMs;
  }

  /** Number of keys scheduled. */
  get size(): number {
    return this.#filed.size;
  }

  /** When `key` falls due, or `undefined` when it is not scheduled. */
  dueOf(key: K): number | undefined {
    return this.#filed.get(key)?.due;
  }

  /** Schedules `key` at `due` (ms), moving it if it was scheduled already. `-Infinity` means due now. */
  schedule(key: K, due: number): void {
    const filed = this.#filed.get(key);
    const slot = this.#slotOf(due);
    if (filed === undefined) {
      this.#filed.set(key, { due, slot });
      this.#file(key, slot);
      return;
    }
    filed.due = due;
    // Later (a renewal): re-filed when the slot it sits in comes due. Earlier: filed now.
    if (slot >= filed.slot) return;
    this.#leave(filed.slot, key);
    filed.slot = slot;
    this.#file(key, slot);
  }

  /** Unschedules `key`; returns whether it was scheduled. */
  cancel(key: K): boolean {
    const filed = this.#filed.get(key);
    if (filed === undefined) return false;
    this.#filed.delete(key);
    this.#leave(filed.slot, key);
    return true;
  }

  /** Removes and returns every key due at or before `now`, earliest slot first. */
  takeDue(now: number): K[] {
    const last = this.#slotOf(now);
    const out: K[] = [];
    if (this.#lowest > last) return out;
    // Walk slot by slot when few have passed; after a long gap (or a key due at -Infinity) visit
    // only the slots that exist.
    const slots =
      last - this.#lowest <= this.#slots.size
        ? range(this.#lowest, last)
        : [...this.#slots.keys()].filter((s) => s <= last).sort((a, b) => a - b);
    for (const slot of slots) {
      const keys = this.#slots.get(slot);
      if (keys === undefined) continue;
      for (const key of keys) {
        const filed = this.#filed.get(key)!;
        if (filed.due <= now) {
          keys.delete(key);
          this.#filed.delete(key);
          out.push(key);
          continue;
        }
        // Renewed since it was filed: into the slot of its new time (this one, if that is `last`).
        const target = this.#slotOf(filed.due);
        if (target === slot) continue;
        keys.delete(key);
        filed.slot = target;
        this.#file(key, target);
      }
      if (keys.size === 0) this.#slots.delete(slot);
    }
    // Every slot before `last` is empty now; `last` itself may hold keys not yet due.
    this.#lowest = this.#slots.size === 0 ? Number.POSITIVE_INFINITY : this.#slots.has(last) ? last : last + 1;
    return out;
  }

  /** Unschedules everything. */
  clear(): void {
    this.#filed.clear();
    this.#slots.clear();
    this.#lowest = Number.POSITIVE_INFINITY;
  }

  #slotOf(due: number): number {
    return due === Number.NEGATIVE_INFINITY ? Number.MIN_SAFE_INTEGER : Math.floor(due / this.#slotMs);
  }

  #file(key: K, slot: number): void {
    let keys = this.#slots.get(slot);
    if (keys === undefined) {
      keys = new Set();
      this.#slots.set(slot, keys);
    }
    keys.add(key);
    if (slot < this.#lowest) this.#lowest = slot;
  }

  #leave(slot: number, key: K): void {
    const keys = this.#slots.get(slot);
    if (keys === undefined) return;
    keys.delete(key);
    if (keys.size === 0) this.#slots.delete(slot);
  }
}

function* range(from: number, to: number): Generator<number> {
  for (let s = from; s <= to; s++) yield s;
}
