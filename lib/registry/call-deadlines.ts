/**
 * Deadlines for many store calls in flight at once, on one shared timer: the per-call form of
 * {@link withDeadline} (lib/registry/store-deadline.ts) costs a timer, two `Promise.race`s and a
 * promise per call, which a routine heartbeat on an in-process store paid in full.
 *
 * Every call gets the same span `ms`, so the calls in flight sit in a list ordered by deadline
 * (appended at the tail, unlinked in O(1) when they settle) and one timer waits for the head.
 * While calls overlap, the timer is re-armed only when it fires (about once per span), not once
 * per call; it is cancelled when the last call in flight settles, so no timer outlives its calls. The rules are {@link withDeadline}'s:
 * a deadline is decided only after the event loop has turned twice more (an answer already
 * waiting in a socket, or delivered from a client's own `setImmediate`, is read first), and a
 * call whose deadline the timer reached more than `ms / 2` late gets one fresh window of `ms`.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { afterLoopTurns } from './loop-turns.js';

/** One call in flight: a node of the deadline-ordered list. */
interface Pending {
  /** When its deadline falls, in clock ms. */
  due: number;
  /** Whether it already had its one fresh window. */
  extended: boolean;
  /** `listed` in the deadline list, `expiring` (deadline passed, two loop turns to go) or `done`. */
  state: 'listed' | 'expiring' | 'done';
  reject: (err: Error) => void;
  prev: Pending | undefined;
  next: Pending | undefined;
}

/**
 * Runs calls with a deadline of `ms` each, all on one timer; {@link CallDeadlines.failAll}
 * fails every call in flight at once.
 * @example
 * const deadlines = new CallDeadlines(clock, 900, 'redis store');
 * const instance = await deadlines.run(() => backend.heartbeat(service, id, lease));
 */
export class CallDeadlines {
  readonly #clock: Clock;
  readonly #ms: number;
  readonly #message: string;
  #head: Pending | undefined;
  /** Calls past their deadline, waiting out the two loop turns. */
  readonly #expiring = new Set<Pending>();
  #tail: Pending | undefined;
  #timer: TimerHandle | undefined;
  /** When the armed timer fires (Infinity when none is armed). */
  #timerAt = Number.POSITIVE_INFINITY;

  /**
   * @param ms the deadline of each call, in ms.
   * @param what names the call in the rejection: `Error('<what>: no answer within <ms> ms')`.
   */
  constructor(clock: Clock, ms: number, what: string) {
    this.#clock = clock;
    this.#ms = ms;
    this.#message = `${what}: no answer within ${ms} ms`;
  }

  /** How many calls are in flight. */
  get inFlight(): number {
    let n = 0;
    for (let p = this.#head; p !== undefined; p = p.next) n++;
    return n;
  }

  /**
   * Resolves with `op()`'s result, or rejects at the deadline (or at {@link failAll}). A late
   * answer or failure of `op` is dropped (handled, never an unhandled rejection).
   */
  run<T>(op: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const call: Pending = {
        due: this.#clock.now() + this.#ms,
        extended: false,
        state: 'listed',
        reject,
        prev: undefined,
        next: undefined,
      };
      this.#append(call);
      let answer: Promise<T>;
      try {
        answer = op();
      } catch (err) {
        answer = Promise.reject(err);
      }
      answer.then(
        (value) => {
          if (this.#settle(call)) resolve(value);
        },
        (err: unknown) => {
          if (this.#settle(call)) reject(err);
        },
      );
    });
  }

  /** Fails every call in flight now with `err` (the store was found down), also those past their deadline. */
  failAll(err: Error): void {
    for (let p = this.#head; p !== undefined; p = this.#head) {
      this.#settle(p);
      p.reject(err);
    }
    for (const p of [...this.#expiring]) if (this.#settle(p)) p.reject(err);
  }

  /** Cancels the timer once no call is in flight (calls in flight keep their deadlines). */
  close(): void {
    if (this.#head === undefined) this.#disarm();
  }

  #disarm(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  #append(call: Pending): void {
    call.prev = this.#tail;
    if (this.#tail === undefined) this.#head = call;
    else this.#tail.next = call;
    this.#tail = call;
    // Deadlines grow along the list; only a clock stepped back gives a call one due before the timer.
    if (call.due < this.#timerAt) this.#arm(call.due);
  }

  /** Marks `call` done (unlinked); `false` when it was done already. */
  #settle(call: Pending): boolean {
    if (call.state === 'done') return false;
    if (call.state === 'listed') {
      this.#unlink(call);
      if (this.#head === undefined) this.#disarm(); // no timer outlives the calls it bounds
    } else this.#expiring.delete(call);
    call.state = 'done';
    return true;
  }

  #unlink(call: Pending): void {
    if (call.prev === undefined) this.#head = call.next;
    else call.prev.next = call.next;
    if (call.next === undefined) this.#tail = call.prev;
    else call.next.prev = call.prev;
    call.prev = call.next = undefined;
  }

  #arm(at: number): void {
    this.#timer?.cancel();
    this.#timerAt = at;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), Math.max(0, at - this.#clock.now()));
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    const expired: Pending[] = [];
    for (let p = this.#head; p !== undefined && p.due <= now; p = this.#head) {
      this.#unlink(p);
      if (!p.extended && now - p.due > this.#ms / 2) {
        // The loop was held across the deadline: the call may not even have been written.
        p.extended = true;
        p.due = now + this.#ms;
        this.#append(p);
      } else {
        p.state = 'expiring'; // an answer in the next two loop turns still wins
        this.#expiring.add(p);
        expired.push(p);
      }
    }
    if (this.#head !== undefined && this.#head.due < this.#timerAt) this.#arm(this.#head.due);
    if (expired.length > 0) afterLoopTurns(2, () => this.#expire(expired));
  }

  #expire(calls: Pending[]): void {
    for (const call of calls) if (this.#settle(call)) call.reject(new Error(this.#message));
  }
}
