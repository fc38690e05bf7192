/**
 * The argument lists the Redis backend's instance scripts take (redis-scripts.ts), and what the
 * scripts answer for a change refused because the instance is someone else's.
 */
import type { LeaseOptions, OwnerProof } from '../model.js';
import type { RedisKeys } from './redis-keys.js';

/** What the scripts return for a change refused because the instance is someone else's. */
export const NOT_OWNER = -1;

/** KEYS and the common ARGV of the instance scripts: instance key, expiry index, channel, service, id, now. */
export function instanceArgs(
  keys: RedisKeys,
  service: string,
  instanceId: string,
  now: number,
): [string, string, string, string, string, string] {
  return [keys.instance(service, instanceId), keys.expiry(service), keys.channel, service, instanceId, String(now)];
}

/** expiresAt and the hash's PEXPIRE for a lease starting at `now`, kept `retainMs` past its end. */
export function expiryArgs(now: number, lease: LeaseOptions, retainMs: number): [string, string] {
  return [String(now + lease.ttlMs), String(Math.ceil(lease.ttlMs + retainMs))];
}

/** The scripts' `check` and `presented hash` arguments for a proof (none: a trusted caller, no check). */
export function proofArgs(proof: OwnerProof | undefined): [string, string] {
  return proof === undefined ? ['0', ''] : ['1', proof.tokenHash ?? ''];
}
