/**
 * Validation and instance building shared by the store-backed registry backends (Redis, etcd),
 * so they accept and reject exactly what the in-memory reference backend does.
 */
import { randomUUID } from 'node:crypto';
import { FleetgateError } from '../../errors.js';
import type { InstanceStatus, LeaseOptions, RegistrationInput, ServiceInstance } from '../model.js';
import { INSTANCE_STATUSES } from '../model.js';

/** The part of an instance fixed at registration; the rest (times, status, epoch) the store maintains. */
export type InstanceDoc = Omit<ServiceInstance, 'registeredAt' | 'lastHeartbeat' | 'expiresAt' | 'status' | 'epoch'>;

/** The fields the store maintains. */
export interface InstanceState {
  registeredAt: number;
  lastHeartbeat: number;
  expiresAt: number;
  status: InstanceStatus;
  epoch: number;
}

/** Rejects a non-positive or non-finite TTL with `ERR_FG_INVALID_CONFIG`. */
export function validateLease(lease: LeaseOptions): void {
  if (!(Number.isFinite(lease?.ttlMs) && lease.ttlMs > 0)) {
    throw new FleetgateError('ERR_FG_INVALID_CONFIG', `ttlMs must be a positive number, got ${lease?.ttlMs}`);
  }
}

/** Rejects an unknown status with `ERR_FG_INVALID_BODY`. */
export function validateStatus(status: unknown): asserts status is InstanceStatus {
  if (!INSTANCE_STATUSES.includes(status as InstanceStatus)) {
    throw new FleetgateError('ERR_FG_INVALID_BODY', `unknown status ${JSON.stringify(status)}`);
  }
}

/** Validates a registration the way the in-memory backend does. */
export function validateRegistration(input: RegistrationInput, lease: LeaseOptions): void {
  validateLease(lease);
  if (typeof input?.service !== 'string' || input.service === '') {
    throw new FleetgateError('ERR_FG_INVALID_BODY', 'service must be a non-empty string');
  }
  if (typeof input.url !== 'string' || input.url === '') {
    throw new FleetgateError('ERR_FG_INVALID_BODY', 'url must be a non-empty string');
  }
  if (input.instanceId !== undefined && (typeof input.instanceId !== 'string' || input.instanceId === '')) {
    throw new FleetgateError('ERR_FG_INVALID_BODY', 'instanceId must be a non-empty string when given');
  }
  if (input.status !== undefined) validateStatus(input.status);
}

/** The longest instance id the registration API accepts by default (`maxNameLength`). */
export const DEFAULT_MAX_ID_LENGTH = 64;

/**
 * A new instance id for `service` that passes the id rules (letters, digits, `.`, `_`, `-`,
 * starting with a letter or digit) within `maxLength`: `<service>-<8 hex>`, the service part
 * shortened as needed (never ending in a separator), or just hex when there is no room for it.
 * @example generateInstanceId('sagjan') // 'sagjan-1f3a9c0e'
 */
export function generateInstanceId(service: string, maxLength = DEFAULT_MAX_ID_LENGTH): string {
  const suffix = randomUUID().replaceAll('-', '');
  const room = maxLength - 9;
  const head = service.slice(0, Math.max(0, room)).replace(/[._-]+$/, '');
  if (head === '') return suffix.slice(0, Math.min(maxLength, suffix.length));
  return `${head}-${suffix.slice(0, 8)}`;
}

/** The given instance id, or a generated one (see {@link generateInstanceId}). */
export function instanceIdFor(input: RegistrationInput): string {
  return input.instanceId ?? generateInstanceId(input.service);
}

/** The registration-fixed part of an instance, defaults filled, optional fields left out when absent. */
export function instanceDoc(input: RegistrationInput, instanceId: string): InstanceDoc {
  return {
    service: input.service,
    instanceId,
    url: input.url,
    ...(input.healthEndpoint === undefined ? {} : { healthEndpoint: input.healthEndpoint }),
    routes: input.routes ?? [],
    weight: input.weight ?? 1,
    ...(input.version === undefined ? {} : { version: input.version }),
    ...(input.zone === undefined ? {} : { zone: input.zone }),
    metadata: input.metadata ?? {},
  };
}

/** `ERR_FG_UNKNOWN_INSTANCE`: the client must re-register. */
export function unknownInstance(service: string, instanceId: string): FleetgateError {
  return new FleetgateError('ERR_FG_UNKNOWN_INSTANCE', `no live instance ${instanceId} of ${service}; re-register`, {
    details: { service, instanceId },
  });
}

/** `ERR_FG_CLOSED` for an operation on a closed backend. */
export function backendClosed(type: string): FleetgateError {
  return new FleetgateError('ERR_FG_CLOSED', `the ${type} registry backend is closed`);
}

/**
 * Wraps a store failure as `ERR_FG_STORE_UNAVAILABLE` (a coded FleetgateError passes through).
 * @param store e.g. `redis`, named in the message.
 */
export function storeUnavailable(store: string, err: unknown): FleetgateError {
  if (err instanceof FleetgateError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new FleetgateError('ERR_FG_STORE_UNAVAILABLE', `${store} is unavailable: ${message}`, { cause: err });
}
