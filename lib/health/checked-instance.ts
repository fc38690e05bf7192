/**
 * The health checker's record of one instance, and the small pure helpers around it.
 */
import type { ServiceInstance } from '../registry/model.js';
import type { HealthTransition, InstanceHealth } from './health-check-options.js';
import type { ScheduleSlot } from './probe-schedule.js';
import type { ProbeTarget } from './probes.js';
import { initialLadder, type LadderState, type LadderStatus } from './status-ladder.js';

/** What the checker keeps per instance; its next probe's place in the shared schedule included. */
export interface CheckedInstance extends ScheduleSlot {
  service: string;
  instanceId: string;
  lastPing: number | undefined;
  lastSuccess: number | undefined;
  responseTimeMs: number | undefined;
  lastError: string | undefined;
  epoch: number;
  target: ProbeTarget;
  ladder: LadderState;
  history: HealthTransition[];
  /** Bumped on reset; a probe finishing under an older generation is discarded. */
  generation: number;
  /** The last verdict could not be written to the registry; retried after the next probe. */
  verdictPending: boolean;
  holdsLease: boolean;
}

/** A fresh record for a newly seen instance (its ladder starts from the registry's status). */
export function newEntry(inst: ServiceInstance): CheckedInstance {
  return {
    service: inst.service,
    instanceId: inst.instanceId,
    epoch: inst.epoch,
    target: targetOf(inst),
    ladder: initialLadder(ladderStatusOf(inst.status) ?? 'UNKNOWN'),
    lastPing: undefined,
    lastSuccess: undefined,
    responseTimeMs: undefined,
    lastError: undefined,
    history: [],
    due: 0,
    seq: 0,
    slot: -1,
    generation: 0,
    verdictPending: false,
    holdsLease: false,
  };
}

/** Map key of an instance. */
export function keyOf(service: string, instanceId: string): string {
  return `${service}\u0000${instanceId}`;
}

/** Lease key: per epoch, so a re-registration frees the instance for any gateway to probe. */
export function leaseKey(e: CheckedInstance): string {
  return `${e.service}/${e.instanceId}/${e.epoch}`;
}

/** What a probe needs from an instance. */
export function targetOf(inst: ServiceInstance): ProbeTarget {
  return { url: inst.url, healthEndpoint: inst.healthEndpoint };
}

/** The ladder status of a registry status; `undefined` for DRAINING, which the ladder leaves alone. */
export function ladderStatusOf(status: ServiceInstance['status']): LadderStatus | undefined {
  return status === 'DRAINING' ? undefined : status;
}

/** The public, copied view of a record. */
export function view(e: CheckedInstance): InstanceHealth {
  return {
    service: e.service,
    instanceId: e.instanceId,
    status: e.ladder.status,
    consecutiveFailures: e.ladder.consecutiveFailures,
    stopped: e.ladder.stopped,
    lastPing: e.lastPing,
    lastSuccess: e.lastSuccess,
    responseTimeMs: e.responseTimeMs,
    lastError: e.lastError,
    history: [...e.history],
  };
}
