/**
 * The ownership rule every backend applies in the same atomic step as its write (the Redis
 * scripts in redis-scripts.ts express the same rule in Lua; the conformance suite checks all
 * backends agree). An owner record is what a store keeps next to an instance: the SHA-256 of its
 * token and the registrant's source address.
 */
import { FleetgateError } from '../../errors.js';
import { sameTokenHash } from '../instance-token.js';
import type { OwnerProof, RegisterOwnership } from '../model.js';

/** What a store keeps about an instance's owner. Never part of a returned instance. */
export interface OwnerRecord {
  /** SHA-256 (hex) of the instance token. */
  tokenHash: string;
  /** Where the registration came from. */
  source?: string | undefined;
}

/** The owner record a registration stores, or `undefined` for an unowned (in-process) one. */
export function ownerRecordOf(owner: RegisterOwnership | undefined): OwnerRecord | undefined {
  if (owner === undefined) return undefined;
  return { tokenHash: owner.newTokenHash, ...(owner.source === undefined ? {} : { source: owner.source }) };
}

/**
 * Whether a caller may change a live instance: trusted callers (no proof) and unowned instances
 * always; otherwise only with the token's hash.
 */
export function proofAccepted(record: OwnerRecord | undefined, proof: OwnerProof | undefined): boolean {
  if (proof === undefined || record === undefined) return true;
  return sameTokenHash(record.tokenHash, proof.tokenHash);
}

/**
 * Whether a registration may replace a live instance: as {@link proofAccepted}, or without the
 * token by a service key holder, or from the same source address when `reclaim` is `source`.
 */
export function reRegistrationAccepted(record: OwnerRecord | undefined, owner: RegisterOwnership | undefined): boolean {
  if (owner === undefined || proofAccepted(record, owner)) return true;
  if (owner.reclaim === 'key') return true;
  return owner.reclaim === 'source' && owner.source !== undefined && record?.source === owner.source;
}

/** `ERR_FG_NOT_OWNER` for a change to someone else's instance. */
export function notOwner(service: string, instanceId: string): FleetgateError {
  return new FleetgateError(
    'ERR_FG_NOT_OWNER',
    `instance ${instanceId} of ${service} belongs to another registration: send its instance_token in X-Instance-Token, or wait for its lease to lapse`,
    { details: { service, instance_id: instanceId } },
  );
}
