/**
 * The per-connection message rate limit: a token bucket plus a strike count, so a burst over
 * the limit is answered (refused messages) and only a client that keeps going is closed (1008).
 * Two numbers per connection and no allocation per message: it sits on the raw tunnel's hot path.
 */

/**
 * One connection's message budget.
 * @example
 * const budget = new MessageBudget(100, 200, clock.now());
 * const refused = budget.take(1, clock.now()); // 0 = admitted
 * if (budget.exhausted) ws.close(1008);
 */
export class MessageBudget {
  readonly #rate: number;
  readonly #capacity: number;
  readonly #strikesAllowed: number;
  #tokens: number;
  #at: number;
  /** Over-limit messages since the last admitted one. */
  strikes = 0;

  /**
   * @param perSecond refill rate; `0` disables the limit.
   * @param capacity tokens in a full bucket (the burst).
   * @param strikesAllowed consecutive refused messages after which {@link exhausted} turns true.
   */
  constructor(perSecond: number, capacity: number, now: number, strikesAllowed = 10) {
    this.#rate = perSecond;
    this.#capacity = capacity;
    this.#strikesAllowed = strikesAllowed;
    this.#tokens = capacity;
    this.#at = now;
  }

  /** Whether the limit is on. */
  get enabled(): boolean {
    return this.#rate > 0;
  }

  /** True once a client has kept sending over the limit for `strikesAllowed` messages. */
  get exhausted(): boolean {
    return this.strikes >= this.#strikesAllowed;
  }

  /**
   * Takes `n` tokens.
   * @returns how many of the `n` messages were over the limit (0 = all admitted).
   */
  take(n: number, now: number): number {
    if (this.#rate === 0 || n === 0) return 0;
    const elapsed = now - this.#at;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.#capacity, this.#tokens + (elapsed * this.#rate) / 1000);
      this.#at = now;
    }
    const admitted = Math.min(n, Math.floor(this.#tokens));
    this.#tokens -= admitted;
    const refused = n - admitted;
    this.strikes = refused === 0 ? 0 : this.strikes + refused;
    return refused;
  }
}
