/**
 * What the gateway refused or worked around: circuit breakers
 * (`fleetgate_breaker_state{service,instance}`, `fleetgate_breaker_transitions_total{service,to}`),
 * retries (`fleetgate_retries_total{service,reason}`), loops (`fleetgate_loops_detected_total{kind}`)
 * and refused credentials (`fleetgate_auth_rejections_total{mechanism,status,reason}`). Rare
 * events, so prom-client's own counters serve.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AuthRejection } from '../auth/auth-metrics-sink.js';
import type { BreakerStateName, LoopKind, RetryReason } from '../proxy/proxy-metrics-sink.js';

/** The gauge value of each breaker state. */
export const BREAKER_STATE_VALUES: Readonly<Record<BreakerStateName, number>> = Object.freeze({
  closed: 0,
  open: 1,
  half_open: 2,
});

/** The resilience half of the metrics sink. */
export interface ResilienceRecorder {
  recordBreakerState(service: string, instanceId: string, state: BreakerStateName): void;
  forgetBreaker(service: string, instanceId: string): void;
  recordRetry(service: string, reason: RetryReason): void;
  recordLoopDetected(kind: LoopKind): void;
  recordAuthRejection(rejection: AuthRejection): void;
}

/** Registers the resilience series in `registry`. */
export function resilienceMetrics(registry: Registry): ResilienceRecorder {
  const registers = [registry];
  const breakerState = new Gauge({
    name: 'fleetgate_breaker_state',
    help: 'Circuit breaker state per instance: 0 closed, 1 open, 2 half_open (only instances whose breaker ever tripped a failure).',
    labelNames: ['service', 'instance'] as const,
    registers,
  });
  const breakerTransitions = new Counter({
    name: 'fleetgate_breaker_transitions_total',
    help: 'Circuit breaker state changes, by service and the state entered (open, half_open, closed).',
    labelNames: ['service', 'to'] as const,
    registers,
  });
  const retries = new Counter({
    name: 'fleetgate_retries_total',
    help: 'Requests retried on another instance, by service and the failure that caused it (connect, connect-timeout, timeout, reset).',
    labelNames: ['service', 'reason'] as const,
    registers,
  });
  const loops = new Counter({
    name: 'fleetgate_loops_detected_total',
    help: 'Requests refused as loops: own_via and max_hops (508 ERR_FG_LOOP_DETECTED), self_target (400 ERR_FG_SELF_TARGET).',
    labelNames: ['kind'] as const,
    registers,
  });
  const auth = new Counter({
    name: 'fleetgate_auth_rejections_total',
    help: 'Requests refused by apiKeys() or jwtAuth(), by mechanism (api_key, jwt), status and reason.',
    labelNames: ['mechanism', 'status', 'reason'] as const,
    registers,
  });
  return {
    recordBreakerState(service, instance, state) {
      breakerState.set({ service, instance }, BREAKER_STATE_VALUES[state]);
      breakerTransitions.inc({ service, to: state });
    },
    forgetBreaker: (service, instance) => breakerState.remove({ service, instance }),
    recordRetry: (service, reason) => retries.inc({ service, reason }),
    recordLoopDetected: (kind) => loops.inc({ kind }),
    recordAuthRejection: (r) => auth.inc({ mechanism: r.mechanism, status: String(r.status), reason: r.reason }),
  };
}
