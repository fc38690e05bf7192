/**
 * When a failed upstream attempt may be tried again on another instance (nginx semantics,
 * README "Routing and proxying"), and the retry budget that keeps retries from multiplying load during an outage.
 */
import { type Clock, realClock } from '../clock.js';
import { isConnectFailure, type UpstreamFailureKind } from '../upstream/upstream-error.js';

/** Retry options of the discovery proxy. */
export interface RetryOptions {
  /** Retries after the first attempt, each on an instance not tried yet. 0 turns retries off. @default 2 */
  attempts: number;
  /** Retries may be at most this share of requests over the budget window. @default 0.2 */
  budgetRatio: number;
  /** Retries always allowed per second, whatever the ratio says. @default 3 */
  minRetriesPerSecond: number;
  /** Length of the budget's sliding window in ms. @default 10000 */
  budgetWindowMs: number;
  /** Request bodies of known length up to this size are buffered so that they can be replayed. @default 65536 */
  bufferLimitBytes: number;
}

/** Defaults of {@link RetryOptions}. Frozen. */
export const RETRY_DEFAULTS: Readonly<RetryOptions> = Object.freeze({
  attempts: 2,
  budgetRatio: 0.2,
  minRetriesPerSecond: 3,
  budgetWindowMs: 10_000,
  bufferLimitBytes: 65_536,
});

/** How the request body can be sent again. */
export type BodyMode =
  /** No body. */
  | 'none'
  /** Held in memory (small, or re-serialised from a parsed body): replayable. */
  | 'buffered'
  /** Streamed from the client: replayable only while no byte of it has been read. */
  | 'stream';

/** What the retry decision looks at for one failed attempt. */
export interface AttemptState {
  method: string;
  bodyMode: BodyMode;
  /** undici started writing the request to a socket (some bytes may have reached the instance). */
  wroteToUpstream: boolean;
  /** The client response has started (headers or bytes sent): nothing can be taken back. */
  responseStarted: boolean;
  /** Retries already made for this request. */
  retries: number;
}

const IDEMPOTENT: Record<string, true> = Object.assign(Object.create(null), {
  GET: true,
  HEAD: true,
  OPTIONS: true,
  PUT: true,
  DELETE: true,
  TRACE: true,
});

/** True for methods a retry cannot harm (RFC 9110 §9.2.2). */
export function isIdempotent(method: string): boolean {
  return IDEMPOTENT[method] === true;
}

/**
 * Whether the attempt may be retried on another instance, before consulting the budget:
 * never once the client response started; always when nothing reached the instance (connect
 * failures), provided the body can be sent again; otherwise only for idempotent methods whose
 * body is absent or buffered. A POST whose body was (even partly) sent is never retried, so it is
 * never delivered twice, nor empty.
 * @example mayRetry({ method: 'POST', bodyMode: 'stream', wroteToUpstream: true, responseStarted: false, retries: 0 }, 'reset', 2) // false
 */
export function mayRetry(state: AttemptState, kind: UpstreamFailureKind, maxRetries: number): boolean {
  if (state.responseStarted || state.retries >= maxRetries) return false;
  if (kind === 'client' || kind === 'aborted') return false;
  const nothingSent = !state.wroteToUpstream || isConnectFailure(kind);
  if (nothingSent) return true;
  return state.bodyMode !== 'stream' && isIdempotent(state.method);
}

/**
 * A sliding-window retry budget (Finagle/Linkerd style): retries may be at most `budgetRatio`
 * of the requests seen over the window, plus a floor of `minRetriesPerSecond`.
 * Counted in one-second buckets on the injectable clock; constant work per call.
 */
export class RetryBudget {
  readonly #clock: Clock;
  readonly #ratio: number;
  readonly #floor: number;
  readonly #requests: Uint32Array;
  readonly #retries: Uint32Array;
  #second = 0;
  #requestSum = 0;
  #retrySum = 0;

  constructor(
    options: Partial<Pick<RetryOptions, 'budgetRatio' | 'minRetriesPerSecond' | 'budgetWindowMs'>> & {
      clock?: Clock;
    } = {},
  ) {
    this.#clock = options.clock ?? realClock;
    this.#ratio = options.budgetRatio ?? RETRY_DEFAULTS.budgetRatio;
    const buckets = Math.max(1, Math.round((options.budgetWindowMs ?? RETRY_DEFAULTS.budgetWindowMs) / 1000));
    this.#floor = (options.minRetriesPerSecond ?? RETRY_DEFAULTS.minRetriesPerSecond) * buckets;
    this.#requests = new Uint32Array(buckets);
    this.#retries = new Uint32Array(buckets);
    this.#second = Math.floor(this.#clock.now() / 1000);
  }

  /** Counts one client request. */
  recordRequest(): void {
    const i = this.#roll();
    this.#requests[i]!++;
    this.#requestSum++;
  }

  /** Takes one retry from the budget; false when the budget is spent. */
  tryAcquire(): boolean {
    const i = this.#roll();
    if (this.#retrySum + 1 > Math.max(this.#floor, this.#ratio * this.#requestSum)) return false;
    this.#retries[i]!++;
    this.#retrySum++;
    return true;
  }

  /** Requests and retries currently in the window. */
  snapshot(): { requests: number; retries: number } {
    this.#roll();
    return { requests: this.#requestSum, retries: this.#retrySum };
  }

  /** Moves the window to the current second, emptying buckets that fell out; returns the current bucket. */
  #roll(): number {
    const second = Math.floor(this.#clock.now() / 1000);
    const n = this.#requests.length;
    if (second !== this.#second) {
      const steps = Math.min(n, Math.max(0, second - this.#second));
      for (let s = 1; s <= steps; s++) {
        const j = (this.#second + s) % n;
        this.#requestSum -= this.#requests[j]!;
        this.#retrySum -= this.#retries[j]!;
        this.#requests[j] = 0;
        this.#retries[j] = 0;
      }
      if (second > this.#second) this.#second = second;
    }
    return this.#second % n;
  }
}
