/**
 * One cockatiel circuit breaker per instance (`ConsecutiveBreaker`): after N failures in a row
 * the circuit opens and the instance leaves routing at once; after `halfOpenAfterMs` exactly one
 * request goes through as a trial, whose outcome closes or re-opens the circuit.
 *
 * The proxy streams, so an attempt's outcome is known in a handler callback, not as a promise.
 * Outcomes are therefore fed to cockatiel after the fact (`execute` of an already-settled
 * action), and only when they can change something: a healthy instance has no breaker at all
 * until its first failure, which keeps the request path free of promises.
 * cockatiel measures `halfOpenAfter` with `Date.now()`, so it cannot use the injectable Clock;
 * tests mock `Date` instead (node:test `mock.timers`) to check the 5 s default in milliseconds.
 */
import { type CircuitBreakerPolicy, CircuitState, ConsecutiveBreaker, circuitBreaker, handleAll } from 'cockatiel';
import { mergeDefined } from '../core/options-merge.js';
import { routingChannel } from '../diagnostics.js';
import { FleetgateError } from '../errors.js';
import { type Logger, noopLogger } from '../logger.js';
import type { BreakerStateName } from './proxy-metrics-sink.js';

/** Told every state change of an instance's breaker, and when it is dropped (a metrics sink). */
export interface BreakerObserver {
  recordBreakerState?(service: string, instanceId: string, state: BreakerStateName): void;
  forgetBreaker?(service: string, instanceId: string): void;
}

/** Options of {@link CircuitBreakers}. */
export interface BreakerOptions {
  /** Consecutive failures that open an instance's circuit. @default 5 */
  consecutiveFailures: number;
  /** Time in ms after which an open circuit lets one trial request through. @default 5000 */
  halfOpenAfterMs: number;
  /** @default noopLogger */
  logger: Logger;
  /** Told every state change (closed, open, half_open) and every dropped breaker. @default undefined */
  observer: BreakerObserver | undefined;
}

/** Defaults of {@link BreakerOptions}. Frozen. */
export const BREAKER_DEFAULTS: Readonly<BreakerOptions> = Object.freeze({
  consecutiveFailures: 5,
  halfOpenAfterMs: 5000,
  logger: noopLogger,
  observer: undefined,
});

interface Trial {
  succeed: () => void;
  fail: (err: Error) => void;
}

interface Entry {
  policy: CircuitBreakerPolicy;
  /** Failures recorded since the last success (mirrors the ConsecutiveBreaker's count). */
  failures: number;
  /** `Date.now()` when the circuit last opened. */
  openedAt: number;
  trial: Trial | undefined;
}

const FAILURE = new Error('upstream attempt failed');
const succeedNow = (): undefined => undefined;
const failNow = (): never => {
  throw FAILURE;
};
const ignore = (): void => {};
/** cockatiel's states by their metric names (Isolated is never used here; it reads as open). */
const STATE_NAMES: Record<CircuitState, BreakerStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'open',
};

/**
 * Per-instance circuit breakers.
 * @example
 * const breakers = new CircuitBreakers({ consecutiveFailures: 5, halfOpenAfterMs: 5000 });
 * if (!breakers.isOpen('sagjan', 'a1')) { breakers.begin('sagjan', 'a1'); ... breakers.recordFailure('sagjan', 'a1'); }
 */
export class CircuitBreakers {
  readonly #opts: BreakerOptions;
  readonly #entries = new Map<string, Map<string, Entry>>();

  constructor(options: Partial<BreakerOptions> = {}) {
    const opts: BreakerOptions = mergeDefined(BREAKER_DEFAULTS, options);
    if (!Number.isInteger(opts.consecutiveFailures) || opts.consecutiveFailures < 1) {
      throw new FleetgateError('ERR_FG_INVALID_CONFIG', `breaker.consecutiveFailures must be ≥ 1`);
    }
    if (!(opts.halfOpenAfterMs > 0)) {
      throw new FleetgateError('ERR_FG_INVALID_CONFIG', `breaker.halfOpenAfterMs must be > 0`);
    }
    this.#opts = opts;
  }

  /**
   * Whether the instance must not be chosen: its circuit is open and the half-open delay has not
   * passed, or a trial request is already in flight.
   */
  isOpen(service: string, instanceId: string): boolean {
    if (this.#entries.size === 0) return false;
    const e = this.#entries.get(service)?.get(instanceId);
    if (e === undefined) return false;
    switch (e.policy.state) {
      case CircuitState.Closed:
        return false;
      case CircuitState.Open:
        return Date.now() - e.openedAt < this.#opts.halfOpenAfterMs;
      default:
        return true;
    }
  }

  /** The circuit state of an instance (`Closed` when it never failed). */
  state(service: string, instanceId: string): CircuitState {
    return this.#entries.get(service)?.get(instanceId)?.policy.state ?? CircuitState.Closed;
  }

  /**
   * An attempt on the instance starts. When its circuit is open and due for a trial, this attempt
   * becomes the trial (cockatiel moves to half-open and every other request keeps away).
   */
  begin(service: string, instanceId: string): void {
    if (this.#entries.size === 0) return;
    const e = this.#entries.get(service)?.get(instanceId);
    if (e === undefined || e.policy.state !== CircuitState.Open || e.trial !== undefined) return;
    e.policy
      .execute(
        () =>
          new Promise<void>((resolve, reject) => {
            e.trial = { succeed: resolve, fail: reject };
          }),
      )
      .catch(ignore);
  }

  /** The attempt got a response below 500. */
  recordSuccess(service: string, instanceId: string): void {
    if (this.#entries.size === 0) return;
    const e = this.#entries.get(service)?.get(instanceId);
    if (e === undefined) return;
    if (e.trial !== undefined) {
      const trial = e.trial;
      e.trial = undefined;
      trial.succeed();
      e.failures = 0;
      return;
    }
    if (e.policy.state !== CircuitState.Closed) return;
    if (e.failures > 0) {
      e.failures = 0;
      e.policy.execute(succeedNow).catch(ignore);
    }
    this.#delete(service, instanceId);
  }

  /** The attempt failed (connection error, timeout, 5xx). */
  recordFailure(service: string, instanceId: string): void {
    let byId = this.#entries.get(service);
    if (byId === undefined) {
      byId = new Map();
      this.#entries.set(service, byId);
    }
    let e = byId.get(instanceId);
    if (e === undefined) {
      e = this.#create(service, instanceId);
      byId.set(instanceId, e);
    }
    if (e.trial !== undefined) {
      const trial = e.trial;
      e.trial = undefined;
      trial.fail(FAILURE);
      return;
    }
    if (e.policy.state !== CircuitState.Closed) return;
    e.failures++;
    e.policy.execute(failNow).catch(ignore);
  }

  /**
   * The attempt ended without a verdict (the client left). A trial it carried counts as failed,
   * so the circuit re-opens and tries again later instead of staying half-open for ever.
   */
  abandon(service: string, instanceId: string): void {
    if (this.#entries.size === 0) return;
    const e = this.#entries.get(service)?.get(instanceId);
    if (e?.trial === undefined) return;
    const trial = e.trial;
    e.trial = undefined;
    trial.fail(FAILURE);
  }

  /** Drops the breaker of an instance that left the registry. */
  forget(service: string, instanceId: string): void {
    const e = this.#entries.get(service)?.get(instanceId);
    e?.trial?.fail(FAILURE);
    this.#delete(service, instanceId);
    // Also for a breaker already gone back to closed and dropped: its series must leave with the instance.
    this.#opts.observer?.forgetBreaker?.(service, instanceId);
  }

  #create(service: string, instanceId: string): Entry {
    const policy = circuitBreaker(handleAll, {
      halfOpenAfter: this.#opts.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(this.#opts.consecutiveFailures),
    });
    const entry: Entry = { policy, failures: 0, openedAt: 0, trial: undefined };
    policy.onBreak(() => {
      entry.openedAt = Date.now();
      this.#opts.logger.warn(`fleetgate: circuit opened for ${service}/${instanceId}`);
      if (routingChannel.hasSubscribers) routingChannel.publish({ type: 'circuit-open', service, instanceId });
    });
    policy.onReset(() => {
      entry.failures = 0;
      this.#opts.logger.info(`fleetgate: circuit closed for ${service}/${instanceId}`);
      if (routingChannel.hasSubscribers) routingChannel.publish({ type: 'circuit-closed', service, instanceId });
    });
    const observer = this.#opts.observer;
    if (observer?.recordBreakerState !== undefined) {
      policy.onStateChange((state) => observer.recordBreakerState?.(service, instanceId, STATE_NAMES[state]));
    }
    return entry;
  }

  #delete(service: string, instanceId: string): void {
    const byId = this.#entries.get(service);
    if (byId === undefined) return;
    byId.delete(instanceId);
    if (byId.size === 0) this.#entries.delete(service);
  }
}
