/**
 * The injectable clock. Every timer in fleetgate comes from a {@link Clock}, so a 90 s TTL
 * or a 10-failure health ladder can be tested in milliseconds with {@link FakeClock}.
 */

/** A cancellable timer handle. */
export interface TimerHandle {
  /** Cancels the timer; safe to call twice. */
  cancel(): void;
}

/** The time source and timer factory used by every component. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `ms`. Real timers are unref'd: they never keep the process alive. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Runs `fn` every `ms`. Real timers are unref'd. */
  setInterval(fn: () => void, ms: number): TimerHandle;
}

/** The real clock: `Date.now()` and unref'd Node timers. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    t.unref();
    return { cancel: () => clearInterval(t) };
  },
};

interface FakeTimer {
  id: number;
  at: number;
  every: number | undefined;
  fn: () => void;
}

/**
 * A manual clock for tests: time moves only when told to.
 * @example
 * const clock = new FakeClock();
 * const reg = new Registry({ backend, clock, ttlMs: 90_000 });
 * await clock.advance(91_000); // the instance has expired
 */
export class FakeClock implements Clock {
  #now: number;
  #timers = new Map<number, FakeTimer>();
  #nextId = 1;

  /** @param start the starting time in ms since the epoch. @default 1_700_000_000_000 */
  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.#add(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.#add(fn, ms, Math.max(1, ms));
  }

  /** How many timers are pending. */
  get pending(): number {
    return this.#timers.size;
  }

  /**
   * Moves time forward by `ms`, firing due timers in order. Between timers it yields to the
   * event loop so promise chains started by a timer settle before the next one fires.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      let next: FakeTimer | undefined;
      for (const t of this.#timers.values()) {
        if (t.at <= target && (next === undefined || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t;
      }
      if (next === undefined) break;
      this.#now = Math.max(this.#now, next.at);
      if (next.every === undefined) this.#timers.delete(next.id);
      else next.at += next.every;
      next.fn();
      await flushMicrotasks();
    }
    this.#now = target;
    await flushMicrotasks();
  }

  #add(fn: () => void, ms: number, every: number | undefined): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { id, at: this.#now + Math.max(0, ms), every, fn });
    return { cancel: () => this.#timers.delete(id) };
  }
}

/** Lets pending promise callbacks (and one macrotask turn) run. */
async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
