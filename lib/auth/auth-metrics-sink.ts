/**
 * What the auth middlewares report to a metrics sink: one record per refused request. lib/auth
 * never imports lib/telemetry: `createMetrics()` (lib/telemetry/metrics.ts) fits.
 */
import type { FleetgateError } from '../errors.js';

/** Which middleware refused. */
export type AuthMechanism = 'api_key' | 'jwt';

/** One refused request. */
export interface AuthRejection {
  mechanism: AuthMechanism;
  /** The status answered: 401, 403, 429 (too many failures from the address) or 503 (cannot check). */
  status: number;
  /**
   * Why, from a bounded set: a 401's `details.reason` (`missing`, `malformed`, `unknown`,
   * `expired`, `signature`, …), `forbidden` (403), `failed-attempts` (429), `unavailable` (503).
   */
  reason: string;
}

/** Where refusals are counted; `createMetrics()` (lib/telemetry/metrics.ts) fits. */
export interface AuthMetricsSink {
  recordAuthRejection?(rejection: AuthRejection): void;
}

/** The record of `error` answered by `mechanism`. */
export function authRejectionOf(mechanism: AuthMechanism, error: FleetgateError): AuthRejection {
  const detail = (error.details as { reason?: unknown } | undefined)?.reason;
  const reason =
    error.status === 403
      ? 'forbidden'
      : error.status === 503
        ? 'unavailable'
        : typeof detail === 'string'
          ? detail
          : error.code;
  return { mechanism, status: error.status, reason };
}
