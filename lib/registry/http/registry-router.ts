/**
 * `registry()`: the registration HTTP API (README "Registration API") as one plain `(req, res, next)`
 * middleware for Express 4/5, Connect or a bare `http.createServer`.
 *
 * Guards run in a fixed order, before anything under the prefix is revealed: caller address
 * (403), bearer token (401), then, for registrations only, the per-source rate limit (429).
 *
 * Ownership (README "Registry backends"): a registration answers an `instance_token`; heartbeat, deregister and
 * re-registration of a live instance id need it back in `X-Instance-Token` (else 403
 * `ERR_FG_NOT_OWNER`). The store keeps only its SHA-256 and checks it in the same atomic step as
 * the change. A caller that lost the token may re-register a live id with a service key for the
 * service, or (no keys configured) from the registration's source address.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { ClientAddressResolver, createAllowList, sourceKey } from '../../core/client-address.js';
import { sendError, sendJson } from '../../core/send-error.js';
import { FleetgateError, isFleetgateError } from '../../errors.js';
import { createBearerCheck } from '../../http/bearer-auth.js';
import { type ComposedHandler, type Next, pathOf } from '../../http/compose.js';
import { exceedsDepth } from '../../http/json-depth.js';
import { readJsonBody } from '../../http/read-json-body.js';
import { inSpan } from '../../telemetry/tracing.js';
import { generateInstanceId } from '../backends/registration-input.js';
import { type DefaultRegistryLease, leaseDefaultRegistry } from '../default-registry.js';
import { instanceKey } from '../instance-cache.js';
import { INSTANCE_TOKEN_HEADER, issueInstanceToken, presentedTokenHash } from '../instance-token.js';
import type { RegisterOwnership } from '../model.js';
import type { RegistryApi } from '../registry-api.js';
import { describeClaim } from '../route-admission.js';
import { SERVICE_KEY_HEADER, ServiceKeys } from '../service-keys.js';
import { sendHeartbeatAnswer } from './heartbeat-answer.js';
import { groupByService, instanceToJson } from './instance-json.js';
import { listingPage, parseListingQuery } from './instance-listing.js';
import { createRegistrationParser } from './registration-parser.js';
import { isValidName, MAX_BODY_DEPTH, toRegistrationInput } from './registration-schema.js';
import {
  REGISTRY_ROUTER_DEFAULTS,
  type RegistryRouterOptions,
  resolveRegistryRouterOptions,
} from './registry-router-options.js';
import { assertNotSelfTarget, listenAddressOf } from './self-target.js';
import { SourceRateLimiter } from './source-rate-limit.js';
import { VerifiedTokens } from './verified-tokens.js';

export { REGISTRY_ROUTER_DEFAULTS, type RegistryRouterOptions };

/** The middleware returned by {@link registry}; `close()` releases what it created. */
export interface RegistryMiddleware extends ComposedHandler, AsyncDisposable {
  /** Forgets rate-limit state and gives back its lease on the default registry (the last lease closes it). */
  close(): Promise<void>;
}

type Endpoint =
  | { kind: 'register'; allow: string }
  | { kind: 'list'; allow: string }
  | { kind: 'instance'; allow: string; service: string; instanceId: string }
  | { kind: 'heartbeat'; allow: string; service: string; instanceId: string };

const INSTANCE_PATH = /^\/services\/([^/]+)\/instances\/([^/]+)(\/heartbeat)?$/;

/**
 * Creates the registration API middleware.
 * @example
 * const reg = await createRegistry();
 * app.use(registry({ registry: reg, token: process.env.REGISTRY_TOKEN }));
 * // POST /internal/register-service, PUT /internal/services/:s/instances/:id/heartbeat,
 * // DELETE /internal/services/:s/instances/:id, GET /internal/services
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` for an invalid option.
 */
export function registry(options: Partial<RegistryRouterOptions> = {}): RegistryMiddleware {
  const o = resolveRegistryRouterOptions(options);
  const allowList = createAllowList(o.allowFrom, 'allowFrom');
  const clients = new ClientAddressResolver(o.trustProxy, 'trustProxy');
  const tokenOk = o.token === undefined ? undefined : createBearerCheck(o.token);
  const limiter =
    o.registrationRateLimit === false
      ? undefined
      : new SourceRateLimiter({ ...o.registrationRateLimit, clock: o.clock });
  const parseRegistration = createRegistrationParser({ maxNameLength: o.maxNameLength, maxRoutes: o.maxRoutes });
  const serviceKeys = o.serviceKeys === undefined ? undefined : new ServiceKeys(o.serviceKeys);
  const { logger } = o;
  // A heartbeat presenting the token last accepted for its instance skips the SHA-256 (the store still checks it).
  const tokens = new VerifiedTokens();
  // Without a registry option: the process-wide default one, shared with a zero-argument
  // discoveryProxy() so what registers here routes there (lib/registry/default-registry.ts).
  const lease = o.registry === undefined ? leaseDefaultRegistry() : undefined;

  const registryApi = (): Promise<RegistryApi> =>
    o.registry !== undefined ? Promise.resolve(o.registry) : (lease as DefaultRegistryLease).get();

  /**
   * The guards every request under the prefix passes first, in order: caller address (403),
   * bearer token (401), endpoint (404) and method (405). Returns the caller's address.
   */
  const admit = (req: IncomingMessage, endpoint: Endpoint | undefined, path: string): string => {
    const address = clients.addressOf(req);
    if (!allowList.allows(address)) {
      logger.warn(`fleetgate registry API: refused ${address} (not in allowFrom)`);
      throw new FleetgateError('ERR_FG_FORBIDDEN', `${address} may not use the registration API`);
    }
    if (tokenOk !== undefined && !tokenOk(req.headers.authorization)) {
      logger.warn(`fleetgate registry API: refused ${address} (missing or wrong bearer token)`);
      throw withHeaders(new FleetgateError('ERR_FG_UNAUTHORIZED', 'a valid bearer token is required'), {
        'www-authenticate': 'Bearer realm="fleetgate"',
      });
    }
    if (endpoint === undefined) throw new FleetgateError('ERR_FG_NOT_FOUND', `no registration API endpoint at ${path}`);
    const method = req.method ?? 'GET';
    if (!allowedMethods(endpoint.allow).has(method)) {
      throw withHeaders(
        new FleetgateError('ERR_FG_NOT_FOUND', `${method} is not allowed on ${path}; use ${endpoint.allow}`, {
          status: 405,
        }),
        { allow: endpoint.allow },
      );
    }
    return address;
  };

  /**
   * A heartbeat, the most frequent call (10,000 instances send 333 a second): a plain promise
   * chain, no async frame of its own, and its answer written by sendHeartbeatAnswer.
   */
  const heartbeat = (req: IncomingMessage, res: ServerResponse, service: string, instanceId: string): Promise<void> => {
    if (!isValidName(service, o.maxNameLength) || !isValidName(instanceId, o.maxNameLength))
      return Promise.reject(unknownInstance(service, instanceId));
    const key = instanceKey(service, instanceId);
    const token = req.headers[INSTANCE_TOKEN_HEADER];
    const proof = { tokenHash: tokens.hashOf(key, token) };
    const reg = o.registry ?? registryApi();
    const renewed =
      reg instanceof Promise
        ? reg.then((r) => r.heartbeat(service, instanceId, proof))
        : reg.heartbeat(service, instanceId, proof);
    return renewed.then((instance) => {
      tokens.remember(key, token, proof.tokenHash);
      sendHeartbeatAnswer(res, instance);
    });
  };

  const serve = async (
    req: IncomingMessage,
    res: ServerResponse,
    endpoint: Exclude<Endpoint, { kind: 'heartbeat' }>,
    address: string,
  ) => {
    switch (endpoint.kind) {
      case 'register': {
        if (limiter !== undefined) {
          const decision = limiter.take(sourceKey(address));
          if (!decision.allowed) {
            const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
            throw withHeaders(
              new FleetgateError('ERR_FG_RATE_LIMITED', `too many registration attempts from ${address}`, {
                details: { retry_after_ms: decision.retryAfterMs },
              }),
              { 'retry-after': String(seconds) },
            );
          }
        }
        const body = await readJsonBody(req, { maxBytes: o.maxBodyBytes });
        // Before the schema: its checks recurse, and a deep enough body would overflow the stack.
        if (exceedsDepth(body, MAX_BODY_DEPTH)) {
          throw new FleetgateError('ERR_FG_INVALID_BODY', 'the registration body is invalid', {
            details: [{ path: '', message: `must not nest deeper than ${MAX_BODY_DEPTH} levels` }],
          });
        }
        const parsed = parseRegistration(body);
        if (!parsed.success) {
          throw new FleetgateError('ERR_FG_INVALID_BODY', 'the registration body is invalid', {
            details: parsed.issues,
          });
        }
        const input = toRegistrationInput(parsed.data);
        serviceKeys?.authorize(req.headers[SERVICE_KEY_HEADER], input.service, input.routes ?? []);
        // Generated here, where the id rules are known, so the id always passes them.
        input.instanceId ??= generateInstanceId(input.service, o.maxNameLength);
        const listening = () => [...listenAddressOf(req.socket), ...o.listenAddresses()];
        await assertNotSelfTarget(input.url, listening).catch((err: unknown) => {
          if (isFleetgateError(err) && err.code === 'ERR_FG_SELF_TARGET')
            o.metrics?.recordLoopDetected?.('self_target');
          throw err;
        });
        const issued = issueInstanceToken();
        const owner: RegisterOwnership = {
          newTokenHash: issued.hash,
          tokenHash: presentedTokenHash(req.headers[INSTANCE_TOKEN_HEADER]),
          source: address,
          reclaim: serviceKeys === undefined ? 'source' : 'key',
        };
        const reg = await registryApi();
        const instance = await inSpan(
          'fleetgate.register',
          { 'fleetgate.service': input.service, 'fleetgate.instance': input.instanceId },
          () => reg.register(input, owner),
        );
        tokens.remember(instanceKey(instance.service, instance.instanceId), issued.token, issued.hash);
        const warnings = nameFallbackWarnings(reg, instance.service);
        return sendJson(res, 200, {
          service: instance.service,
          instance_id: instance.instanceId,
          instance_token: issued.token,
          ttl_ms: reg.ttlMs,
          heartbeat_interval_ms: Math.round(reg.ttlMs / 3),
          status: 'registered',
          epoch: instance.epoch,
          ...(warnings.length === 0 ? {} : { warnings }),
        });
      }
      case 'instance': {
        const { service, instanceId } = endpoint;
        if (!isValidName(service, o.maxNameLength) || !isValidName(instanceId, o.maxNameLength))
          throw unknownInstance(service, instanceId);
        const proof = { tokenHash: presentedTokenHash(req.headers[INSTANCE_TOKEN_HEADER]) };
        const removed = await (await registryApi()).deregister(service, instanceId, proof);
        tokens.forget(instanceKey(service, instanceId));
        if (!removed) throw unknownInstance(service, instanceId);
        return sendJson(res, 200, { status: 'deregistered' });
      }
      case 'list': {
        // Bounded: one page per answer, `next_cursor` for the rest (lib/registry/http/instance-listing.ts).
        const query = parseListingQuery(new URLSearchParams(queryOf(req.url)));
        const page = listingPage(await registryApi(), query);
        const services: Record<string, { instances: ReturnType<typeof instanceToJson>[] }> = {};
        for (const [name, list] of groupByService(page.instances)) {
          services[name] = { instances: list.map(instanceToJson) };
        }
        return sendJson(res, 200, { services, next_cursor: page.nextCursor ?? null });
      }
    }
  };

  const fail = (res: ServerResponse, err: unknown): void => {
    const headers: OutgoingHttpHeaders = { ...errorHeaders.get(err as object) };
    // The rest of an oversized body may still be arriving: do not keep this connection.
    if (isFleetgateError(err, 'ERR_FG_BODY_TOO_LARGE')) headers.connection = 'close';
    if (isFleetgateError(err) && err.status === 503) headers['retry-after'] ??= '1';
    sendError(res, err, { headers, logger });
  };

  const handler = (req: IncomingMessage, res: ServerResponse, next?: Next): void => {
    const path = pathOf(req.url);
    const inside = o.prefix === '' || path === o.prefix || path.startsWith(`${o.prefix}/`);
    const endpoint = inside ? matchEndpoint(path.slice(o.prefix.length)) : undefined;
    // Mounted without a prefix, only our own paths are ours.
    if (!inside || (endpoint === undefined && o.prefix === '')) {
      passOn(req, res, next);
      return;
    }
    let served: Promise<void>;
    try {
      const address = admit(req, endpoint, path);
      served =
        endpoint!.kind === 'heartbeat'
          ? heartbeat(req, res, endpoint!.service, endpoint!.instanceId)
          : serve(req, res, endpoint!, address);
    } catch (err) {
      // A guard's refusal, or a registry whose call threw instead of rejecting.
      fail(res, err);
      return;
    }
    served.catch((err: unknown) => fail(res, err));
  };

  const close = async (): Promise<void> => {
    tokens.clear();
    await limiter?.close();
    await lease?.release();
  };
  return Object.assign(handler, { close, [Symbol.asyncDispose]: close });
}

/** Says when explicit routes of others take part of the service's `/{service}/…` name fallback. */
function nameFallbackWarnings(reg: RegistryApi, service: string): string[] {
  return (reg.nameFallbackShadows?.(service) ?? []).map(
    (ref) => `name fallback /${service}/… is shadowed by ${describeClaim(ref)}: those paths go there`,
  );
}

/** Response headers that belong to an error (Allow, WWW-Authenticate, Retry-After). */
const errorHeaders = new WeakMap<object, OutgoingHttpHeaders>();

function withHeaders(err: FleetgateError, headers: OutgoingHttpHeaders): FleetgateError {
  errorHeaders.set(err, headers);
  return err;
}

function unknownInstance(service: string, instanceId: string): FleetgateError {
  return new FleetgateError('ERR_FG_UNKNOWN_INSTANCE', `no instance ${instanceId} of ${service}; register again`, {
    details: { service, instance_id: instanceId },
  });
}

function passOn(req: IncomingMessage, res: ServerResponse, next: Next | undefined): void {
  if (next !== undefined) next();
  else
    sendError(res, new FleetgateError('ERR_FG_NOT_FOUND', `nothing handles ${req.method ?? 'GET'} ${pathOf(req.url)}`));
}

/** The methods of an `Allow` value, split once per distinct value (there are three). */
const allowSets = new Map<string, ReadonlySet<string>>();

function allowedMethods(allow: string): ReadonlySet<string> {
  let set = allowSets.get(allow);
  if (set === undefined) {
    set = new Set(allow.split(', '));
    allowSets.set(allow, set);
  }
  return set;
}

function matchEndpoint(rest: string): Endpoint | undefined {
  const p = rest.length > 1 && rest.endsWith('/') ? rest.slice(0, -1) : rest;
  if (p === '/register-service') return { kind: 'register', allow: 'POST' };
  if (p === '/services') return { kind: 'list', allow: 'GET, HEAD' };
  const m = INSTANCE_PATH.exec(p);
  if (m === null) return undefined;
  const service = decode(m[1]!);
  const instanceId = decode(m[2]!);
  return m[3] === undefined
    ? { kind: 'instance', allow: 'DELETE', service, instanceId }
    : { kind: 'heartbeat', allow: 'PUT', service, instanceId };
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // an invalid escape can never be a valid name; the name check rejects it
  }
}

/** The query string of a request target, without the `?`. */
function queryOf(url: string | undefined): string {
  const at = url?.indexOf('?') ?? -1;
  return at < 0 ? '' : url!.slice(at + 1);
}
