/**
 * The health-check status ladder (furt semantics), as a pure state machine: given the state and a
 * probe outcome it returns the next state, the transition if any, and when to probe next.
 * No timers, no I/O: {@link import('./health-checker.js').HealthChecker} drives it. README "Health, metrics, rate limits, tracing"
 */

/** The statuses the ladder moves between. */
export type LadderStatus = 'UP' | 'DOWN' | 'UNKNOWN';

/** The ladder's knobs. */
export interface LadderOptions {
  /** Probe period while UP/UNKNOWN. @default 30000 */
  intervalMs: number;
  /** Probe period while DOWN. @default 120000 */
  downIntervalMs: number;
  /** Consecutive failures that take an instance DOWN. @default 3 */
  maxFailures: number;
  /** Consecutive failures after which probing stops until the instance heartbeats or re-registers. @default 10 */
  stopAfter: number;
}

/** Defaults of {@link LadderOptions} (furt's). Frozen. */
export const LADDER_DEFAULTS: Readonly<LadderOptions> = Object.freeze({
  intervalMs: 30_000,
  downIntervalMs: 120_000,
  maxFailures: 3,
  stopAfter: 10,
});

/** One instance's place on the ladder. */
export interface LadderState {
  status: LadderStatus;
  consecutiveFailures: number;
  /** True once `stopAfter` consecutive failures were seen: no more probes until {@link resumeLadder}. */
  stopped: boolean;
}

/** A status change. */
export interface LadderTransition {
  from: LadderStatus;
  to: LadderStatus;
}

/** The outcome of {@link stepLadder}. */
export interface LadderStep {
  state: LadderState;
  transition: LadderTransition | undefined;
  /** ms until the next probe, or `undefined` when probing stops. */
  nextDelayMs: number | undefined;
}

/** The starting state for an instance currently in `status`. */
export function initialLadder(status: LadderStatus = 'UNKNOWN'): LadderState {
  return { status, consecutiveFailures: 0, stopped: false };
}

/** ms until the next probe for an instance in `state`, or `undefined` when stopped. */
export function probeDelay(state: LadderState, options: LadderOptions): number | undefined {
  if (state.stopped) return undefined;
  return state.status === 'DOWN' ? options.downIntervalMs : options.intervalMs;
}

/**
 * Applies one probe outcome.
 * - success: failures reset; anything not UP becomes UP (UNKNOWN → UP, DOWN → UP).
 * - failure: `maxFailures` in a row take the instance DOWN (from UP or UNKNOWN); while DOWN it is
 *   probed every `downIntervalMs`; at `stopAfter` in a row probing stops.
 * @example
 * let s = initialLadder('UP');
 * for (let i = 0; i < 3; i++) s = stepLadder(s, false, LADDER_DEFAULTS).state;
 * s.status; // 'DOWN'
 */
export function stepLadder(state: LadderState, healthy: boolean, options: LadderOptions): LadderStep {
  if (healthy) {
    const next: LadderState = { status: 'UP', consecutiveFailures: 0, stopped: false };
    const transition = state.status === 'UP' ? undefined : { from: state.status, to: 'UP' as const };
    return { state: next, transition, nextDelayMs: options.intervalMs };
  }
  const failures = state.consecutiveFailures + 1;
  const goesDown = state.status !== 'DOWN' && failures >= options.maxFailures;
  const next: LadderState = {
    status: goesDown ? 'DOWN' : state.status,
    consecutiveFailures: failures,
    stopped: failures >= options.stopAfter,
  };
  return {
    state: next,
    transition: goesDown ? { from: state.status, to: 'DOWN' } : undefined,
    nextDelayMs: probeDelay(next, options),
  };
}

/**
 * What a heartbeat or re-registration does to a stopped (or any) ladder: probing resumes with the
 * failure count cleared; the status stays until a probe says otherwise. A re-registration passes
 * the instance's new status (a fresh registration starts over).
 */
export function resumeLadder(state: LadderState, status: LadderStatus = state.status): LadderState {
  return { status, consecutiveFailures: 0, stopped: false };
}

/**
 * Validates ladder options.
 * @returns a list of problems, empty when valid.
 */
export function ladderProblems(options: LadderOptions): string[] {
  const problems: string[] = [];
  for (const k of ['intervalMs', 'downIntervalMs'] as const) {
    if (!(Number.isFinite(options[k]) && options[k] > 0)) problems.push(`${k} must be a positive number`);
  }
  for (const k of ['maxFailures', 'stopAfter'] as const) {
    if (!(Number.isInteger(options[k]) && options[k] >= 1)) problems.push(`${k} must be an integer ≥ 1`);
  }
  if (options.stopAfter < options.maxFailures) problems.push('stopAfter must be ≥ maxFailures');
  return problems;
}
