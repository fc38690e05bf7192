/**
 * Passive outlier detection (Envoy's `outlier_detection`): an instance that fails N times in a
 * row (5xx or connection errors), or whose connection is refused, is ejected from routing at
 * once, for a time that doubles with each ejection and decays while it behaves.
 */
import { type Clock, realClock } from '../clock.js';
import { mergeDefined } from '../core/options-merge.js';
import { routingChannel } from '../diagnostics.js';
import { FleetgateError } from '../errors.js';
import { type Logger, noopLogger } from '../logger.js';
import type { InstanceHealthSignals } from '../routing/types.js';

/** Options of {@link OutlierDetector}. */
export interface OutlierOptions {
  /** Consecutive failures (5xx, timeouts, resets, refused) that eject an instance. @default 5 */
  consecutiveFailures: number;
  /**
   * Consecutive connect failures (refused, unreachable, connect timeout) that eject an instance.
   * A killed instance refuses connections, so 1 takes it out on the first attempt. @default 1
   */
  consecutiveConnectFailures: number;
  /** First ejection time in ms; each further ejection doubles it. @default 5000 */
  baseEjectionMs: number;
  /** Longest ejection in ms. @default 300000 */
  maxEjectionMs: number;
  /** @default realClock */
  clock: Clock;
  /** @default noopLogger */
  logger: Logger;
}

/** Defaults of {@link OutlierOptions}. Frozen. */
export const OUTLIER_DEFAULTS: Readonly<OutlierOptions> = Object.freeze({
  consecutiveFailures: 5,
  consecutiveConnectFailures: 1,
  baseEjectionMs: 5000,
  maxEjectionMs: 300_000,
  clock: realClock,
  logger: noopLogger,
});

interface OutlierState {
  failures: number;
  connectFailures: number;
  /** Ejections so far (decays by one per `baseEjectionMs` of good behaviour). */
  ejections: number;
  ejectedUntil: number;
}

/** One ejected instance, for `/_fleetgate/explain` and logs. */
export interface Ejection {
  service: string;
  instanceId: string;
  until: number;
  ejections: number;
}

/**
 * Tracks consecutive failures per instance and answers {@link InstanceHealthSignals.isEjected}.
 * Healthy instances have no entry, so the request path pays one `Map.size` check.
 * @example
 * const outliers = new OutlierDetector({ consecutiveFailures: 5 });
 * outliers.recordFailure('sagjan', 'a1', true); // refused → ejected for 5 s
 * outliers.isEjected('sagjan', 'a1'); // true
 */
export class OutlierDetector implements InstanceHealthSignals {
  readonly #opts: OutlierOptions;
  readonly #states = new Map<string, Map<string, OutlierState>>();

  constructor(options: Partial<OutlierOptions> = {}) {
    const opts: OutlierOptions = mergeDefined(OUTLIER_DEFAULTS, options);
    for (const k of ['consecutiveFailures', 'consecutiveConnectFailures'] as const) {
      if (!Number.isInteger(opts[k]) || opts[k] < 1) {
        throw new FleetgateError('ERR_FG_INVALID_CONFIG', `outlier.${k} must be an integer ≥ 1, got ${opts[k]}`);
      }
    }
    if (!(opts.baseEjectionMs > 0) || !(opts.maxEjectionMs >= opts.baseEjectionMs)) {
      throw new FleetgateError('ERR_FG_INVALID_CONFIG', 'outlier: need 0 < baseEjectionMs ≤ maxEjectionMs');
    }
    this.#opts = opts;
  }

  isEjected(service: string, instanceId: string): boolean {
    if (this.#states.size === 0) return false;
    const s = this.#states.get(service)?.get(instanceId);
    return s !== undefined && s.ejectedUntil > this.#opts.clock.now();
  }

  /** A response below 500 arrived: the failure streak ends. */
  recordSuccess(service: string, instanceId: string): void {
    if (this.#states.size === 0) return;
    const byId = this.#states.get(service);
    const s = byId?.get(instanceId);
    if (s === undefined) return;
    s.failures = 0;
    s.connectFailures = 0;
    this.#decay(s, this.#opts.clock.now());
    if (s.ejections === 0) this.#delete(service, instanceId);
  }

  /**
   * An attempt failed. `connect` is true when no connection could be made.
   * @returns true when this failure ejected the instance.
   */
  recordFailure(service: string, instanceId: string, connect: boolean): boolean {
    let byId = this.#states.get(service);
    if (byId === undefined) {
      byId = new Map();
      this.#states.set(service, byId);
    }
    let s = byId.get(instanceId);
    if (s === undefined) {
      s = { failures: 0, connectFailures: 0, ejections: 0, ejectedUntil: 0 };
      byId.set(instanceId, s);
    }
    const now = this.#opts.clock.now();
    s.failures++;
    if (connect) s.connectFailures++;
    if (s.ejectedUntil > now) return false;
    const tripped =
      s.failures >= this.#opts.consecutiveFailures || s.connectFailures >= this.#opts.consecutiveConnectFailures;
    if (!tripped) return false;
    this.#decay(s, now);
    s.ejections++;
    const ms = Math.min(this.#opts.maxEjectionMs, this.#opts.baseEjectionMs * 2 ** (s.ejections - 1));
    s.ejectedUntil = now + ms;
    const why = connect ? `${s.connectFailures} connect failure(s)` : `${s.failures} consecutive failures`;
    s.failures = 0;
    s.connectFailures = 0;
    this.#opts.logger.warn(`fleetgate: ejected ${service}/${instanceId} for ${ms} ms after ${why}`);
    if (routingChannel.hasSubscribers) {
      routingChannel.publish({ type: 'ejected', service, instanceId, untilMs: s.ejectedUntil, reason: why });
    }
    return true;
  }

  /** Instances ejected right now. */
  ejected(): Ejection[] {
    const now = this.#opts.clock.now();
    const out: Ejection[] = [];
    for (const [service, byId] of this.#states) {
      for (const [instanceId, s] of byId) {
        if (s.ejectedUntil > now) out.push({ service, instanceId, until: s.ejectedUntil, ejections: s.ejections });
      }
    }
    return out;
  }

  /** Drops what is known about an instance (it left the registry). */
  forget(service: string, instanceId: string): void {
    this.#delete(service, instanceId);
  }

  /** Every ejection multiplier step is forgiven after `baseEjectionMs` out of ejection. */
  #decay(s: OutlierState, now: number): void {
    if (s.ejections === 0 || s.ejectedUntil > now) return;
    const steps = Math.floor((now - s.ejectedUntil) / this.#opts.baseEjectionMs);
    if (steps > 0) {
      s.ejections = Math.max(0, s.ejections - steps);
      s.ejectedUntil = now - ((now - s.ejectedUntil) % this.#opts.baseEjectionMs);
    }
  }

  #delete(service: string, instanceId: string): void {
    const byId = this.#states.get(service);
    if (byId === undefined) return;
    byId.delete(instanceId);
    if (byId.size === 0) this.#states.delete(service);
  }
}
