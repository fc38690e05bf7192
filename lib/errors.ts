/**
 * Coded errors. Every error fleetgate raises on purpose is a {@link FleetgateError}
 * whose `code` is one of {@link ERROR_CODES}; HTTP-facing code maps it with `status`.
 */

/** The table of error codes: HTTP status and what each one means. Documented in docs/errors.md. */
export const ERROR_CODES = {
  ERR_FG_INVALID_CONFIG: { status: 500, description: 'An option or environment variable has an invalid value.' },
  ERR_FG_INVALID_BODY: { status: 400, description: 'The request body failed schema validation.' },
  ERR_FG_MALFORMED_JSON: { status: 400, description: 'The request body is not valid JSON.' },
  ERR_FG_INVALID_QUERY: {
    status: 400,
    description: 'A query parameter is invalid (a listing filter, page size or cursor); details name the parameter.',
  },
  ERR_FG_SELF_TARGET: {
    status: 400,
    description: "The instance URL points at the gateway's own listen address; it would loop through the gateway.",
  },
  ERR_FG_BODY_TOO_LARGE: { status: 413, description: 'The request body exceeds the size limit.' },
  ERR_FG_UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'The request body is not application/json.' },
  ERR_FG_UNAUTHORIZED: { status: 401, description: 'The bearer token is missing or wrong.' },
  ERR_FG_UNAUTHENTICATED: {
    status: 401,
    description:
      'The request needs credentials it did not present or that are not valid: no API key or token, a malformed, unknown or expired API key, or a token that is oversized, unsigned (`alg: none`), badly signed, expired, not yet valid, or for another issuer or audience. `details.reason` says which; `WWW-Authenticate` names the scheme.',
  },
  ERR_FG_FORBIDDEN: {
    status: 403,
    description:
      "The caller may not do this: its address is not in REGISTRY_ALLOW_FROM (registration API), an operator endpoint was asked by a caller outside ADMIN_ALLOW_FROM without ADMIN_TOKEN, its service key does not name the service or a route permission, or its API key or token lacks the route's permission, scopes or roles (details say what was missing).",
  },
  ERR_FG_AUTH_UNAVAILABLE: {
    status: 503,
    description:
      'Credentials could not be checked right now: the API key store did not answer, the JWKS could not be fetched and no keys are cached, or the route table is not ready yet. Retry later.',
  },
  ERR_FG_NOT_OWNER: {
    status: 403,
    description:
      'The instance is registered by someone else: send its instance_token in X-Instance-Token (or wait for its lease to lapse).',
  },
  ERR_FG_UNKNOWN_INSTANCE: { status: 404, description: 'No such instance is registered; the client must re-register.' },
  ERR_FG_NOT_FOUND: { status: 404, description: 'No such resource.' },
  ERR_FG_INVALID_ROUTE: {
    status: 400,
    description:
      'A registered route pattern is invalid and could never match a request; details name the route index, path and reason.',
  },
  ERR_FG_ROUTE_CONFLICT: {
    status: 409,
    description:
      "Some request could match both this route and one of another service, a static gateway route, a reserved gateway path or another service's name prefix; details name the owner and both patterns.",
  },
  ERR_FG_RATE_LIMITED: { status: 429, description: 'Too many requests from this caller.' },
  ERR_FG_MAX_INSTANCES: {
    status: 429,
    description:
      'The gateway holds its limit of instances in total (`REGISTRY_MAX_INSTANCES`, option `maxInstances`); a new instance may register once others leave. Details name the limit, its value and the count.',
  },
  ERR_FG_MAX_SERVICE_INSTANCES: {
    status: 429,
    description:
      'The service holds its limit of instances (`REGISTRY_MAX_INSTANCES_PER_SERVICE`, option `maxInstancesPerService`); a new instance may register once others leave. Details name the limit, its value and the count.',
  },
  ERR_FG_MAX_SERVICE_ROUTES: {
    status: 409,
    description:
      'The registration would give the service more distinct routes than its limit (`REGISTRY_MAX_ROUTES_PER_SERVICE`, option `maxRoutesPerService`). Details name the limit, its value and the count it would reach.',
  },
  ERR_FG_BAD_PATH: {
    status: 400,
    description: 'The request path is malformed or tries to escape its route (encoded slashes, traversal).',
  },
  ERR_FG_BAD_HEADER: {
    status: 400,
    description: 'A request header is malformed or repeated where one is allowed (e.g. two Host headers).',
  },
  ERR_FG_BAD_HANDSHAKE: {
    status: 400,
    description:
      'A WebSocket handshake is invalid (Sec-WebSocket-Key not base64 of 16 bytes); 426 when Sec-WebSocket-Version is not 13.',
  },
  ERR_FG_METHOD_NOT_ALLOWED: {
    status: 405,
    description: 'The method is refused at the edge (TRACE and CONNECT unless enabled by `refuseMethods`).',
  },
  ERR_FG_LOOP_DETECTED: {
    status: 508,
    description:
      'The request already passed through this gateway (its id is in Via), or through more gateways than the hop limit.',
  },
  ERR_FG_NO_ROUTE: { status: 404, description: 'No registered route matches the request.' },
  ERR_FG_NO_HEALTHY_INSTANCE: { status: 503, description: 'The route matched but no instance can take the request.' },
  ERR_FG_UPSTREAM_CONNECT: { status: 502, description: 'The upstream instance refused or dropped the connection.' },
  ERR_FG_UPSTREAM_TIMEOUT: { status: 504, description: 'The upstream instance did not answer in time.' },
  ERR_FG_STORE_UNAVAILABLE: { status: 503, description: 'The registry store is unreachable; retry later.' },
  ERR_FG_CLOSED: { status: 503, description: 'The component was closed.' },
  ERR_FG_INTERNAL: { status: 500, description: 'An unexpected failure; the details are logged, not sent.' },
  ERR_FG_WS_REQUEST_TIMEOUT: {
    status: 504,
    description: 'A request a service sent to a WebSocket client (`ctx.request()`) got no answer within `timeoutMs`.',
  },
  ERR_FG_WS_CLIENT_GONE: {
    status: 410,
    description:
      'The WebSocket client (or its link to this instance) closed; requests to it fail and loops should end.',
  },
  ERR_FG_WS_SOCKET_VALUE_MISSING: {
    status: 409,
    description:
      '`ctx.socket.mustGet(key)` found no value: the message came before the one that sets it (or after a re-pin).',
  },
} as const satisfies Record<string, { status: number; description: string }>;

/** One of the documented error codes. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Options for {@link FleetgateError}. */
export interface FleetgateErrorOptions {
  /** Structured details, serialised into the JSON error body. */
  details?: unknown;
  /** The underlying error. */
  cause?: unknown;
  /** Overrides the code's default HTTP status. */
  status?: number;
}

/**
 * The one error class of fleetgate.
 * @example
 * throw new FleetgateError('ERR_FG_UNKNOWN_INSTANCE', 'no instance a1 of sagjan');
 */
export class FleetgateError extends Error {
  /** The stable machine-readable code. */
  readonly code: ErrorCode;
  /** The HTTP status this error maps to. */
  readonly status: number;
  /** Structured details for the caller. */
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: FleetgateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FleetgateError';
    this.code = code;
    this.status = options.status ?? ERROR_CODES[code].status;
    this.details = options.details;
  }

  /** The JSON body of an HTTP error response. */
  toJSON(): { error: { code: ErrorCode; message: string; details?: unknown } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

/** True when `err` is a {@link FleetgateError}, optionally with the given code. */
export function isFleetgateError(err: unknown, code?: ErrorCode): err is FleetgateError {
  return err instanceof FleetgateError && (code === undefined || err.code === code);
}

/** True when `err` says the instance is unknown (the client must re-register). */
export function isUnknownInstanceError(err: unknown): err is FleetgateError {
  return isFleetgateError(err, 'ERR_FG_UNKNOWN_INSTANCE');
}

/** True when `err` says the caller does not own the instance (wrong or missing `X-Instance-Token`). */
export function isNotOwnerError(err: unknown): err is FleetgateError {
  return isFleetgateError(err, 'ERR_FG_NOT_OWNER');
}

/** True when `err` says the route collides with another one. */
export function isRouteConflictError(err: unknown): err is FleetgateError {
  return isFleetgateError(err, 'ERR_FG_ROUTE_CONFLICT');
}

/** True when `err` says the registry store is unreachable. */
export function isStoreUnavailableError(err: unknown): err is FleetgateError {
  return isFleetgateError(err, 'ERR_FG_STORE_UNAVAILABLE');
}
