/**
 * The tiny HTTP client for the gateway's registration API (README "Registration API"), used by
 * `registerService()`. It owns one undici Agent so `close()` can tear down every socket,
 * and turns every failure into a {@link FleetgateError} that says whether a retry can help.
 */
import { Agent, request } from 'undici';
import type { Clock } from '../clock.js';
import { dropUndefined } from '../core/options-merge.js';
import { ERROR_CODES, type ErrorCode, FleetgateError, isFleetgateError } from '../errors.js';
import type { RouteSpec } from '../registry/model.js';

/** Options for {@link GatewayApi}. */
export interface GatewayApiOptions {
  /** Base URL of the gateway, e.g. `http://127.0.0.1:8080`. */
  gateway: string;
  /** Where the registration API is mounted. */
  prefix: string;
  /** Sent as `Authorization: Bearer <token>` when set. */
  token: string | undefined;
  /** Sent as `X-Service-Key` with registrations when set. @default undefined */
  serviceKey?: string | undefined;
  /** Bound on every request, connect included, in ms. */
  requestTimeoutMs: number;
  /** Timer source for the request timeout. */
  clock: Clock;
}

/** A registration as the client sends it (camelCase; converted to the snake_case wire body). */
export interface RegistrationRequest {
  service: string;
  url: string;
  instanceId?: string | undefined;
  healthEndpoint?: string | undefined;
  routes: readonly RouteSpec[];
  weight?: number | undefined;
  version?: string | undefined;
  zone?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
}

/** What the gateway answered to a registration. */
export interface RegistrationReply {
  service: string;
  instanceId: string;
  /** The TTL the gateway applies, when it said so. */
  ttlMs: number | undefined;
  /** How often the gateway wants heartbeats, when it said so. */
  heartbeatIntervalMs: number | undefined;
  /** Bumped by each re-registration of the same instance, when the gateway reports it. */
  epoch: number | undefined;
  /** The instance token to send back in `X-Instance-Token`, when the gateway issued one. */
  instanceToken: string | undefined;
}

/** `details` of every error raised by {@link GatewayApi}. */
export interface GatewayErrorDetails {
  /** The HTTP status the gateway answered, absent for network failures and timeouts. */
  httpStatus?: number;
  /** Whether retrying later can succeed (network failure, timeout, 408, 429, 5xx). */
  transient: boolean;
  /** The wait the gateway asked for in `Retry-After`, in ms. */
  retryAfterMs?: number;
  /** The gateway's own `error.details`, if any. */
  server?: unknown;
}

/** True when `err` came from {@link GatewayApi} and a later retry may succeed. */
export function isTransientGatewayError(err: unknown): boolean {
  if (!isFleetgateError(err)) return true;
  return (err.details as GatewayErrorDetails | undefined)?.transient ?? true;
}

/** The `Retry-After` wait attached to a gateway error, in ms, if the gateway sent one. */
export function retryAfterOf(err: unknown): number | undefined {
  return isFleetgateError(err) ? (err.details as GatewayErrorDetails | undefined)?.retryAfterMs : undefined;
}

/** The HTTP status of a gateway error, if the gateway answered at all. */
export function httpStatusOf(err: unknown): number | undefined {
  return isFleetgateError(err) ? (err.details as GatewayErrorDetails | undefined)?.httpStatus : undefined;
}

/** Retry-After beyond this is treated as this: a typo on the server must not park a client for days. */
const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * Calls the registration API: register, heartbeat, deregister.
 * @example
 * const api = new GatewayApi({ gateway: 'http://127.0.0.1:8080', prefix: '/internal', token: undefined, requestTimeoutMs: 5000, clock: realClock });
 * const reply = await api.register({ service: 'sagjan', url: 'http://127.0.0.1:7812', routes: [] });
 * await api.close();
 */
export class GatewayApi {
  readonly #opts: GatewayApiOptions;
  readonly #base: string;
  readonly #agent: Agent;
  readonly #inflight = new Set<AbortController>();
  #closed = false;

  constructor(options: GatewayApiOptions) {
    this.#opts = options;
    this.#base = options.gateway.replace(/\/+$/, '') + options.prefix.replace(/\/+$/, '');
    this.#agent = new Agent({ connect: { timeout: options.requestTimeoutMs } });
  }

  /**
   * `POST {prefix}/register-service`. Resolves the gateway's answer. `instanceToken` (the one
   * from the previous registration, if any) lets a live instance be re-registered.
   */
  async register(reg: RegistrationRequest, instanceToken?: string): Promise<RegistrationReply> {
    const headers: Record<string, string> = {};
    if (this.#opts.serviceKey !== undefined) headers['x-service-key'] = this.#opts.serviceKey;
    if (instanceToken !== undefined) headers['x-instance-token'] = instanceToken;
    const body = await this.#call('POST', '/register-service', toWireBody(reg), 'ERR_FG_NOT_FOUND', headers);
    const b = (body ?? {}) as Record<string, unknown>;
    const instanceId = typeof b.instance_id === 'string' ? b.instance_id : reg.instanceId;
    if (instanceId === undefined) {
      throw new FleetgateError(
        'ERR_FG_INVALID_BODY',
        'The gateway accepted the registration but returned no instance_id',
        {
          status: 502,
          details: { transient: true, server: body } satisfies GatewayErrorDetails,
        },
      );
    }
    return {
      service: typeof b.service === 'string' ? b.service : reg.service,
      instanceId,
      ttlMs: positiveNumber(b.ttl_ms),
      heartbeatIntervalMs: positiveNumber(b.heartbeat_interval_ms),
      epoch: typeof b.epoch === 'number' ? b.epoch : undefined,
      instanceToken: typeof b.instance_token === 'string' ? b.instance_token : undefined,
    };
  }

  /**
   * `PUT {prefix}/services/:service/instances/:id/heartbeat` with the instance token. Rejects
   * `ERR_FG_UNKNOWN_INSTANCE` on 404.
   */
  async heartbeat(service: string, instanceId: string, instanceToken?: string): Promise<void> {
    const path = `${instancePath(service, instanceId)}/heartbeat`;
    await this.#call('PUT', path, undefined, 'ERR_FG_UNKNOWN_INSTANCE', tokenHeader(instanceToken));
  }

  /** `DELETE {prefix}/services/:service/instances/:id` with the instance token. Resolves `false` when the gateway did not know it. */
  async deregister(service: string, instanceId: string, instanceToken?: string): Promise<boolean> {
    try {
      const path = instancePath(service, instanceId);
      await this.#call('DELETE', path, undefined, 'ERR_FG_UNKNOWN_INSTANCE', tokenHeader(instanceToken));
      return true;
    } catch (err) {
      if (httpStatusOf(err) === 404) return false;
      throw err;
    }
  }

  /** Aborts requests in flight (they reject `ERR_FG_CLOSED`); later calls still work until {@link close}. */
  abortAll(): void {
    for (const ac of this.#inflight) ac.abort(closedError());
  }

  /** Aborts whatever is in flight and destroys every socket. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.abortAll();
    await this.#agent.destroy().catch(() => {});
  }

  async #call(
    method: string,
    path: string,
    body: unknown,
    notFoundCode: ErrorCode = 'ERR_FG_NOT_FOUND',
    extraHeaders: Record<string, string> = {},
  ): Promise<unknown> {
    if (this.#closed) throw closedError();
    const ac = new AbortController();
    this.#inflight.add(ac);
    const timer = this.#opts.clock.setTimeout(() => {
      ac.abort(
        new FleetgateError(
          'ERR_FG_UPSTREAM_TIMEOUT',
          `${method} ${path}: no answer within ${this.#opts.requestTimeoutMs} ms`,
          {
            details: { transient: true } satisfies GatewayErrorDetails,
          },
        ),
      );
    }, this.#opts.requestTimeoutMs);
    const headers: Record<string, string> = { ...extraHeaders, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.#opts.token !== undefined) headers.authorization = `Bearer ${this.#opts.token}`;
    try {
      const res = await request(this.#base + path, {
        method: method as 'POST',
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: ac.signal,
        dispatcher: this.#agent,
      });
      const text = await res.body.text();
      const json = parseJson(text);
      if (res.statusCode >= 200 && res.statusCode < 300) return json;
      throw httpError(method, path, res.statusCode, json, res.headers['retry-after'], notFoundCode, this.#opts.clock);
    } catch (err) {
      if (isFleetgateError(err)) throw err;
      if (ac.signal.aborted && isFleetgateError(ac.signal.reason)) throw ac.signal.reason;
      const code = (err as { code?: string }).code;
      throw new FleetgateError(
        'ERR_FG_UPSTREAM_CONNECT',
        `${method} ${path}: gateway unreachable (${code ?? String(err)})`,
        {
          cause: err,
          details: { transient: true } satisfies GatewayErrorDetails,
        },
      );
    } finally {
      timer.cancel();
      this.#inflight.delete(ac);
    }
  }
}

function tokenHeader(instanceToken: string | undefined): Record<string, string> {
  return instanceToken === undefined ? {} : { 'x-instance-token': instanceToken };
}

function instancePath(service: string, instanceId: string): string {
  return `/services/${encodeURIComponent(service)}/instances/${encodeURIComponent(instanceId)}`;
}

/** The snake_case body of `POST /register-service`; absent fields are left out, not sent as null. */
function toWireBody(reg: RegistrationRequest): Record<string, unknown> {
  const routes = reg.routes.map((r) =>
    dropUndefined({
      method: r.method,
      path: r.path,
      protocol: r.protocol,
      public: r.public,
      permission: r.permission,
      timeout_ms: r.timeoutMs,
    }),
  );
  return dropUndefined({
    service: reg.service,
    url: reg.url,
    health_endpoint: reg.healthEndpoint,
    routes,
    instance_id: reg.instanceId,
    weight: reg.weight,
    version: reg.version,
    zone: reg.zone,
    metadata: reg.metadata,
  });
}

/** Status → code when the gateway's body has no code we know. */
const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'ERR_FG_INVALID_BODY',
  401: 'ERR_FG_UNAUTHORIZED',
  403: 'ERR_FG_FORBIDDEN',
  409: 'ERR_FG_ROUTE_CONFLICT',
  413: 'ERR_FG_BODY_TOO_LARGE',
  415: 'ERR_FG_UNSUPPORTED_MEDIA_TYPE',
  429: 'ERR_FG_RATE_LIMITED',
};

function httpError(
  method: string,
  path: string,
  status: number,
  json: unknown,
  retryAfterHeader: string | string[] | undefined,
  notFoundCode: ErrorCode,
  clock: Clock,
): FleetgateError {
  const err = (json as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  const serverCode = typeof err?.code === 'string' && err.code in ERROR_CODES ? (err.code as ErrorCode) : undefined;
  const code = serverCode ?? (status === 404 ? notFoundCode : (CODE_BY_STATUS[status] ?? 'ERR_FG_STORE_UNAVAILABLE'));
  const message = typeof err?.message === 'string' ? err.message : `gateway answered ${status}`;
  const retryAfterMs = parseRetryAfter(retryAfterHeader, clock.now());
  const details: GatewayErrorDetails = {
    httpStatus: status,
    transient: status === 408 || status === 429 || status >= 500,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(err?.details === undefined ? {} : { server: err.details }),
  };
  return new FleetgateError(code, `${method} ${path}: ${message}`, { status, details });
}

/** `Retry-After` is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3). */
function parseRetryAfter(header: string | string[] | undefined, now: number): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.round(ms)));
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function positiveNumber(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}

function closedError(): FleetgateError {
  return new FleetgateError('ERR_FG_CLOSED', 'the registration was closed', {
    details: { transient: false } satisfies GatewayErrorDetails,
  });
}
