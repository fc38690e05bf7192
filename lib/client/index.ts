/**
 * `fleetgate/client`: what a service needs to join a fleetgate fleet, and nothing of the gateway.
 * @example
 * import { registerService } from 'fleetgate/client';
 * const handle = registerService({ gateway: 'http://127.0.0.1:8080', service: 'sagjan', url: 'http://127.0.0.1:7812' });
 * await handle.ready;
 */

export { FleetgateError, isFleetgateError, isUnknownInstanceError } from '../errors.js';
export type { BackoffOptions, RandomSource } from './backoff.js';
export { BACKOFF_DEFAULTS, backoffCeiling, backoffDelay, jitteredInterval } from './backoff.js';
export type { GatewayErrorDetails } from './gateway-api.js';
export type { RegisterServiceInput, RegisterServiceOptions } from './register-options.js';
export { REGISTER_SERVICE_DEFAULTS } from './register-options.js';
export type { CloseRegistrationOptions } from './register-service.js';
export { registerService, ServiceRegistration } from './register-service.js';
export type { Registration, RegistrationState, ServiceRegistrationEvents } from './registration.js';
export type { ClientRequestOptions, ConnectionContext, LinkCloseInfo, SocketState } from './ws-link.js';
export type {
  MessageContext,
  MessageHandler,
  MessageRoutesServer,
  ServeMessageRoutesOptions,
} from './ws-routes.js';
export { SERVE_MESSAGE_ROUTES_DEFAULTS, serveMessageRoutes } from './ws-routes.js';
