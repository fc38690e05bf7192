/** The types a `registerService()` handle hands out: confirmed registrations, states and events. */
import type { FleetgateError } from '../errors.js';

/** A successful (re-)registration as the gateway confirmed it. */
export interface Registration {
  service: string;
  instanceId: string;
  /** The lease TTL in effect (the gateway's `ttl_ms`, else the `ttl` option), in ms. */
  ttlMs: number;
  /** The heartbeat interval in effect (the gateway's `heartbeat_interval_ms`, else `ttlMs / 3`), in ms. */
  heartbeatIntervalMs: number;
  /** The gateway's epoch for this instance, when it reports one. */
  epoch: number | undefined;
  /** When the gateway confirmed it, ms since epoch (client clock). */
  registeredAt: number;
}

/** Where a `registerService()` handle is in its life. */
export type RegistrationState = 'registering' | 'registered' | 'failed' | 'closed';

/** Events of a `registerService()` handle and their arguments. */
export interface ServiceRegistrationEvents {
  /** The first successful registration. */
  registered: [registration: Registration];
  /** A later registration of the same instance id: the gateway had forgotten it (404) or was unreachable past the TTL. */
  reregistered: [registration: Registration];
  /** A heartbeat was accepted. */
  heartbeat: [info: { instanceId: string; at: number }];
  /** A heartbeat failed for a transient reason; heartbeats go on (the lease still runs). */
  'heartbeat-failed': [error: FleetgateError];
  /** A registration attempt failed for a transient reason and will be retried after `retryInMs`. */
  'registration-failed': [error: FleetgateError, retry: { attempt: number; retryInMs: number }];
  /** After `switchAfter` consecutive transient failures, the handle moved to the next of `gateways`. */
  switched: [info: { from: string; to: string }];
  /** The gateway refused the registration for good (400, 401, 403, 409, ...): no more retries. Emitted only when listened to. */
  error: [error: FleetgateError];
}
