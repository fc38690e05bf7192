/**
 * The options, defaults and public data shapes of the {@link import('./health-checker.js').HealthChecker}.
 */

import { type Clock, realClock } from '../clock.js';
import { mergeDefined } from '../core/options-merge.js';
import { FleetgateError } from '../errors.js';
import { type Logger, noopLogger } from '../logger.js';
import type { UpstreamTlsOptions } from '../upstream/upstream-tls.js';
import type { CheckLease } from './check-lease.js';
import type { Probe, ProbeResult } from './probes.js';
import { LADDER_DEFAULTS, type LadderOptions, type LadderStatus, ladderProblems } from './status-ladder.js';

/** Options of {@link HealthChecker} (besides the required `registry`). */
export interface HealthCheckerOptions extends LadderOptions {
  /** A probe taking longer than this fails. @default 5000 */
  timeoutMs: number;
  /** @default realClock */
  clock: Clock;
  /** Transitions are logged here (warn for DOWN, info otherwise). @default noopLogger */
  logger: Logger;
  /** @default HTTP GET of the health endpoint, TCP connect when there is none */
  probe: Probe | undefined;
  /** TLS of the default probe towards `https:` health endpoints (private CA, client certificate). @default Node's CA store */
  upstreamTls: UpstreamTlsOptions | undefined;
  /** Decides which gateway probes which instance. @default a MemoryCheckLease (single gateway) */
  lease: CheckLease | undefined;
  /** This checker's name in leases. @default `<hostname>:<pid>:<random>` */
  holderId: string | undefined;
  /** Lease kept by a checker that stopped probing an instance, so peers do not restart the ladder. @default 1200000 */
  stoppedLeaseMs: number;
  /** Transitions remembered per instance. @default 20 */
  historySize: number;
  /** Source of jitter in [0, 1): the first probe of an instance happens at `random() × interval`. @default Math.random */
  random: () => number;
}

/** Defaults of {@link HealthCheckerOptions} (furt's ladder, README "Health, metrics, rate limits, tracing"). Frozen. */
export const HEALTH_CHECK_DEFAULTS: Readonly<HealthCheckerOptions> = Object.freeze({
  ...LADDER_DEFAULTS,
  timeoutMs: 5_000,
  clock: realClock,
  logger: noopLogger,
  probe: undefined,
  upstreamTls: undefined,
  lease: undefined,
  holderId: undefined,
  stoppedLeaseMs: 1_200_000,
  historySize: 20,
  random: Math.random,
});

/** One status change of one instance. */
export interface HealthTransition {
  service: string;
  instanceId: string;
  from: LadderStatus;
  to: LadderStatus;
  /** ms since epoch. */
  at: number;
  consecutiveFailures: number;
  /** The failing probe's error, for transitions to DOWN. */
  error?: string;
}

/** What the checker knows about one instance (read by `/health`). */
export interface InstanceHealth {
  service: string;
  instanceId: string;
  status: LadderStatus;
  consecutiveFailures: number;
  /** True when probing stopped after `stopAfter` failures. */
  stopped: boolean;
  /** ms since epoch of the latest probe run by this gateway. */
  lastPing: number | undefined;
  /** ms since epoch of the latest successful probe. */
  lastSuccess: number | undefined;
  /** Duration of the latest probe. */
  responseTimeMs: number | undefined;
  lastError: string | undefined;
  /** The latest transitions, oldest first. */
  history: readonly HealthTransition[];
}

/** Events of {@link HealthChecker}. */
export interface HealthCheckerEvents {
  transition: [HealthTransition];
  probe: [{ service: string; instanceId: string; result: ProbeResult }];
}

/**
 * Merges `options` over {@link HEALTH_CHECK_DEFAULTS} (undefined means "default") and validates.
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` listing every problem.
 */
export function resolveHealthCheckOptions(options: Partial<HealthCheckerOptions>): HealthCheckerOptions {
  const o: HealthCheckerOptions = mergeDefined(HEALTH_CHECK_DEFAULTS, options);
  const problems = ladderProblems(o);
  if (!(o.timeoutMs > 0)) problems.push('timeoutMs must be a positive number');
  if (!(Number.isInteger(o.historySize) && o.historySize >= 0)) problems.push('historySize must be an integer ≥ 0');
  if (problems.length > 0) {
    throw new FleetgateError('ERR_FG_INVALID_CONFIG', `health checker: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  return o;
}
