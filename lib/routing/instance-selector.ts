/**
 * Turns the instances that can serve a route into one choice: filters out the ones that must not
 * take traffic, applies panic mode, and lets the balancer pick. README "Routing and proxying"
 */
import type { ServiceInstance } from '../registry/model.js';
import type { Balancer, ExclusionReason, InstanceHealthSignals, PickContext, Selection } from './types.js';

/** Inputs of {@link selectInstance}. */
export interface SelectOptions {
  balancer: Balancer;
  ctx: PickContext;
  /** Passive health (outlier ejection, circuit breakers) from the proxy. */
  signals?: InstanceHealthSignals;
  /**
   * ms since epoch. When given, candidates whose lease ended by then are excluded — for callers
   * holding their own, possibly stale, lists. Omit it for candidates taken from the registry:
   * the registry is the authority on liveness, and during self-preservation it deliberately keeps
   * instances whose lease lapsed (a store outage must not empty the routing table).
   */
  now?: number;
  service: string;
  /**
   * Panic threshold, opt-in: when fewer than this share of the candidates are healthy, spread over
   * all of them except draining, expired or circuit-open ones (Envoy's panic routing, e.g. `0.5`).
   * `0` keeps panic mode off: furt's contract is that a DOWN instance never takes traffic.
   * @default 0
   */
  panicThreshold?: number;
}

/** Default panic threshold: off (furt: DOWN means out of routing). */
export const DEFAULT_PANIC_THRESHOLD = 0;

/**
 * Chooses an instance for a request.
 *
 * Healthy = not expired, not DOWN, not DRAINING, not ejected, circuit not open; `UP` and `UNKNOWN`
 * (registered, not yet checked) take traffic, nothing else does. Only when `panicThreshold` is
 * set and fewer than that share of the live candidates are healthy does the balancer pick among
 * every candidate that is not draining, expired or circuit-open, with `panic` true: spreading
 * load over instances of doubtful health rather than piling it onto the few left (Envoy's panic
 * routing) is an operator's explicit choice.
 * @example
 * const sel = selectInstance(table.instancesFor(hit), { balancer, ctx: {}, service: hit.service });
 * if (sel.instance === undefined) throw new FleetgateError('ERR_FG_NO_HEALTHY_INSTANCE', '...');
 */
export function selectInstance(candidates: readonly ServiceInstance[], opts: SelectOptions): Selection {
  const { signals, now, service } = opts;
  const threshold = opts.panicThreshold ?? DEFAULT_PANIC_THRESHOLD;
  let healthy: ServiceInstance[] | undefined;
  // Reason per candidate index; undefined = healthy. Allocated only when something is unhealthy.
  let reasons: (ExclusionReason | undefined)[] | undefined;
  for (let i = 0; i < candidates.length; i++) {
    const inst = candidates[i]!;
    const reason = exclusionReason(inst, now, service, signals);
    if (reason === undefined) {
      healthy?.push(inst);
      continue;
    }
    if (reasons === undefined) {
      reasons = new Array(candidates.length);
      healthy = candidates.slice(0, i);
    }
    reasons[i] = reason;
  }
  if (reasons === undefined) {
    return { instance: opts.balancer.pick(candidates, opts.ctx), excluded: [], panic: false };
  }
  healthy ??= [];
  let live = 0;
  for (let i = 0; i < candidates.length; i++) if (reasons[i] !== 'expired') live++;
  const panic = live > 0 && healthy.length < threshold * live;
  let pool = healthy;
  if (panic) {
    pool = [];
    for (let i = 0; i < candidates.length; i++) {
      const r = reasons[i];
      if (r === undefined || PANIC_USABLE.has(r)) pool.push(candidates[i]!);
    }
  }
  const excluded: Selection['excluded'] = [];
  for (let i = 0; i < candidates.length; i++) {
    const r = reasons[i];
    if (r !== undefined && !(panic && PANIC_USABLE.has(r)))
      excluded.push({ instanceId: candidates[i]!.instanceId, reason: r });
  }
  return { instance: pool.length === 0 ? undefined : opts.balancer.pick(pool, opts.ctx), excluded, panic };
}

/** Unhealthy instances that panic mode still sends traffic to. */
const PANIC_USABLE: ReadonlySet<ExclusionReason> = new Set<ExclusionReason>(['down', 'ejected', 'unknown-status']);

/** Why `inst` must not take traffic now, or `undefined` when it may. */
export function exclusionReason(
  inst: ServiceInstance,
  now: number | undefined,
  service: string,
  signals?: InstanceHealthSignals,
): ExclusionReason | undefined {
  if (now !== undefined && inst.expiresAt <= now) return 'expired';
  switch (inst.status) {
    case 'UP':
    case 'UNKNOWN':
      break;
    case 'DOWN':
      return 'down';
    case 'DRAINING':
      return 'draining';
    default:
      return 'unknown-status';
  }
  if (signals === undefined) return undefined;
  if (signals.isCircuitOpen?.(service, inst.instanceId) === true) return 'circuit-open';
  if (signals.isEjected(service, inst.instanceId)) return 'ejected';
  return undefined;
}
