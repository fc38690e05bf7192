/**
 * `POST /_fleetgate/api/drain`: the dashboard's one state-changing call. Body
 * `{"service":"orders","instance_id":"orders-1","drain":true}` sets the instance `DRAINING` (no new
 * requests; in-flight ones finish); `"drain": false` sets a draining instance back to `UP`.
 *
 * Only an **admin** may call it: a caller that passes the operator rule (the guard in front of
 * `/_fleetgate/**`) *and* sends `Authorization: Bearer $ADMIN_TOKEN`. Without `ADMIN_TOKEN`
 * nobody is an admin and the dashboard stays read-only. Cross-site requests cannot call it: the
 * token travels in a header (no cookie is ever involved), the body must be `application/json`
 * (which a form cannot send), and a request whose `Origin` or `Sec-Fetch-Site` names another site
 * is refused. Every refusal is a coded 4xx that changes nothing (docs/dashboard.md).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError, sendJson } from '../core/send-error.js';
import { FleetgateError } from '../errors.js';
import type { AdminAccess } from '../http/admin-access.js';
import type { Middleware, Next } from '../http/compose.js';
import { pathOf } from '../http/compose.js';
import { readJsonBody } from '../http/read-json-body.js';
import type { RegistryApi } from '../registry/registry-api.js';

/** Options of {@link drainEndpoint}. */
export interface DrainEndpointOptions {
  registry: RegistryApi;
  /** The gateway's operator check (`createAdminAccess`). */
  admin: Pick<AdminAccess, 'holdsToken' | 'clientAddress' | 'logger'>;
  /** @default '/_fleetgate/api/drain' */
  path?: string;
}

/** A drain request, validated. */
interface DrainRequest {
  service: string;
  instanceId: string;
  drain: boolean;
}

const MAX_BODY_BYTES = 4096;
const MAX_NAME = 256;

/**
 * The drain endpoint middleware; anything but its path goes to `next`.
 * @example compose([adminGuard(admin), drainEndpoint({ registry, admin }), ...])
 */
export function drainEndpoint(options: DrainEndpointOptions): Middleware {
  const path = options.path ?? '/_fleetgate/api/drain';
  const { registry, admin } = options;
  return async (req: IncomingMessage, res: ServerResponse, next: Next) => {
    if (pathOf(req.url) !== path) return next();
    try {
      refuseUnlessAdmin(req, res, admin);
      const body = parseDrainRequest(await readJsonBody(req, { maxBytes: MAX_BODY_BYTES }));
      const instance = registry.get(body.service, body.instanceId);
      if (instance === undefined)
        throw new FleetgateError('ERR_FG_UNKNOWN_INSTANCE', `no live instance ${body.instanceId} of ${body.service}`);
      const target = body.drain ? 'DRAINING' : 'UP';
      // Undrain only lifts a drain: it never overrides a DOWN verdict of the health checks.
      const changes = body.drain ? instance.status !== 'DRAINING' : instance.status === 'DRAINING';
      const after = changes ? await registry.setStatus(body.service, body.instanceId, target) : instance;
      if (after === undefined)
        throw new FleetgateError('ERR_FG_UNKNOWN_INSTANCE', `no live instance ${body.instanceId} of ${body.service}`);
      if (changes)
        admin.logger.info(
          `fleetgate: dashboard ${body.drain ? 'drain' : 'undrain'} of ${body.service}/${body.instanceId} by ${admin.clientAddress(req) ?? 'unknown address'}`,
        );
      sendJson(res, 200, {
        service: after.service,
        instance_id: after.instanceId,
        status: after.status,
        changed: changes,
      });
    } catch (err) {
      sendError(res, err);
    }
  };
}

/** Throws the coded refusal for anything but a same-site POST carrying the admin token. */
function refuseUnlessAdmin(req: IncomingMessage, res: ServerResponse, admin: DrainEndpointOptions['admin']): void {
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'POST');
    throw new FleetgateError('ERR_FG_METHOD_NOT_ALLOWED', 'drain is POST only');
  }
  if (crossSite(req)) throw new FleetgateError('ERR_FG_FORBIDDEN', 'drain refuses cross-site requests');
  if (req.headers.authorization === undefined) {
    res.setHeader('WWW-Authenticate', 'Bearer realm="fleetgate admin"');
    throw new FleetgateError('ERR_FG_UNAUTHORIZED', 'drain needs Authorization: Bearer <ADMIN_TOKEN>');
  }
  if (!admin.holdsToken(req)) {
    admin.logger.warn(`fleetgate: refused dashboard drain from ${admin.clientAddress(req) ?? 'unknown address'}`);
    throw new FleetgateError(
      'ERR_FG_FORBIDDEN',
      'drain is for admins: the bearer token is not ADMIN_TOKEN (or none is configured)',
    );
  }
}

/** True when the browser says the request comes from another site (`Origin` host ≠ `Host`, or `Sec-Fetch-Site`). */
function crossSite(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return true;
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

/**
 * Validates a drain body: exactly `service`, `instance_id` (non-empty strings) and `drain` (boolean).
 * @throws FleetgateError `ERR_FG_INVALID_BODY` naming what is wrong.
 */
export function parseDrainRequest(body: unknown): DrainRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new FleetgateError('ERR_FG_INVALID_BODY', 'drain body must be an object');
  const o = body as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => k !== 'service' && k !== 'instance_id' && k !== 'drain');
  if (extra.length > 0)
    throw new FleetgateError('ERR_FG_INVALID_BODY', `unknown field ${JSON.stringify(extra[0])}`, {
      details: { field: extra[0] },
    });
  for (const key of ['service', 'instance_id'] as const) {
    const v = o[key];
    if (typeof v !== 'string' || v === '' || v.length > MAX_NAME)
      throw new FleetgateError(
        'ERR_FG_INVALID_BODY',
        `"${key}" must be a non-empty string of at most ${MAX_NAME} characters`,
        {
          details: { field: key },
        },
      );
  }
  if (typeof o.drain !== 'boolean')
    throw new FleetgateError('ERR_FG_INVALID_BODY', '"drain" must be true or false', { details: { field: 'drain' } });
  return { service: o.service as string, instanceId: o.instance_id as string, drain: o.drain };
}
