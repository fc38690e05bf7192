/**
 * The registration API's guards (allow-from CIDRs, then the `REGISTRY_TOKEN`) for the
 * compatibility APIs, which unmodified Eureka and Consul clients call: the token is accepted the
 * ways those clients can send it without code changes (`Authorization: Bearer`, HTTP Basic with
 * the token as password as in `http://user:TOKEN@gateway/eureka/`, and Consul's `X-Consul-Token`).
 */
import type { IncomingMessage } from 'node:http';
import { ClientAddressResolver, createAllowList, type TrustProxy } from '../core/client-address.js';
import { FleetgateError } from '../errors.js';
import { createBearerCheck } from '../http/bearer-auth.js';
import type { Logger } from '../logger.js';

/** Who may call a compatibility API. */
export interface AccessGuardOptions {
  /** Caller CIDRs (or loopback, private, linklocal). */
  allowFrom: readonly string[];
  /** Proxies whose `X-Forwarded-For` is believed. */
  trustProxy: TrustProxy;
  /** Required token, or none. */
  token: string | undefined;
  logger: Pick<Logger, 'warn'>;
}

/**
 * Builds the guard of one API; it throws 403 `ERR_FG_FORBIDDEN` or 401 `ERR_FG_UNAUTHORIZED`.
 * @example const guard = createAccessGuard(opts, 'eureka'); guard(req);
 */
export function createAccessGuard(options: AccessGuardOptions, api: string): (req: IncomingMessage) => void {
  const allowList = createAllowList(options.allowFrom, 'allowFrom');
  const clients = new ClientAddressResolver(options.trustProxy, 'trustProxy');
  const bearerOk = options.token === undefined ? undefined : createBearerCheck(options.token);
  return (req) => {
    const address = clients.addressOf(req);
    if (!allowList.allows(address)) {
      options.logger.warn(`fleetgate ${api} API: refused ${address} (not in allowFrom)`);
      throw new FleetgateError('ERR_FG_FORBIDDEN', `${address} may not use the ${api} API`);
    }
    if (bearerOk === undefined) return;
    const presented = presentedToken(req);
    if (presented === undefined || !bearerOk(`Bearer ${presented}`)) {
      options.logger.warn(`fleetgate ${api} API: refused ${address} (missing or wrong token)`);
      throw new FleetgateError('ERR_FG_UNAUTHORIZED', 'a valid registry token is required');
    }
  };
}

function presentedToken(req: IncomingMessage): string | undefined {
  const consul = req.headers['x-consul-token'];
  if (typeof consul === 'string' && consul !== '') return consul;
  const auth = req.headers.authorization;
  if (auth === undefined) return undefined;
  const bearer = /^Bearer +(\S+) *$/i.exec(auth);
  if (bearer !== null) return bearer[1];
  const basic = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(auth);
  if (basic === null) return undefined;
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : decoded.slice(colon + 1);
}
