/**
 * Telling a routine renewal from a change: the Registry announces the first as a `renew` event
 * and everything else as a `change` (lib/registry/registry-api.ts).
 */
import type { RegistryChange } from './registry-api.js';

/**
 * A heartbeat that moved only the lease and heartbeat time: the cache had this registration
 * (same `registeredAt` and epoch) with the same status. Whether the previous lease had already
 * expired is the caller's to add (a revived lease is a change).
 * @example if (!cameBack && isRoutineRenewal(change)) registry.emit('renew', change);
 */
export function isRoutineRenewal(change: RegistryChange): boolean {
  const { previous, instance } = change;
  return (
    change.type === 'heartbeat' &&
    previous !== undefined &&
    instance !== undefined &&
    previous.status === instance.status &&
    previous.registeredAt === instance.registeredAt &&
    previous.epoch === instance.epoch
  );
}
