/**
 * `node:diagnostics_channel` channels, so users can observe fleetgate without a logger.
 * @example
 * import { subscribe } from 'node:diagnostics_channel';
 * subscribe('fleetgate:registry', (msg) => console.log(msg));
 */
import { channel } from 'node:diagnostics_channel';

/** Registrations, heartbeats that change something, deregistrations, expiries. */
export const registryChannel = channel('fleetgate:registry');
/** Routing decisions: matched route, chosen instance, excluded instances. */
export const routingChannel = channel('fleetgate:routing');
/** Health status transitions. */
export const healthChannel = channel('fleetgate:health');
/** Rate-limit decisions. */
export const rateLimitChannel = channel('fleetgate:ratelimit');
