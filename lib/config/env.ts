/**
 * Every environment variable fleetgate reads, parsed and validated in one place (README "The standalone gateway").
 * An invalid value throws `ERR_FG_INVALID_CONFIG` naming the variable and the accepted form.
 */
import { readFileSync } from 'node:fs';
import { parseTrustProxy } from '../core/client-address.js';
import { FleetgateError } from '../errors.js';
import { parseServiceKeys, type ServiceKeySpec } from '../registry/service-keys.js';
import { parseTraceEndpoint } from '../telemetry/trace-endpoint.js';
import { DURATION_FORM, parseDuration } from './duration.js';
import { parseYamlText } from './yaml-on-demand.js';

/** The registry backends selectable with `REGISTRY_TYPE`. */
export const REGISTRY_TYPES = ['INMEMORY', 'REDIS', 'REDIS_CLUSTER', 'ETCD'] as const;
/** One of {@link REGISTRY_TYPES}. */
export type RegistryType = (typeof REGISTRY_TYPES)[number];

/** The parsed environment. */
export interface FleetgateEnv {
  /** `ERUGATEWAYPORT` or `PORT`. @default 8080 */
  port: number;
  /** `HOST`. @default '0.0.0.0' */
  host: string;
  /** @default 'INMEMORY' */
  registryType: RegistryType;
  /** `REGISTRY_TTL`. @default 90000 */
  registryTtlMs: number;
  /** `REGISTRY_REDIS_ADDR`, split on commas. */
  redisAddrs: string[];
  /** `REGISTRY_ETCD_ENDPOINTS`, split on commas. */
  etcdEndpoints: string[];
  /** `REGISTRY_ALLOW_FROM`, CIDRs. @default ['127.0.0.0/8', '::1/128'] */
  allowFrom: string[];
  /** `REGISTRY_TOKEN`. */
  registryToken: string | undefined;
  /**
   * `TRUSTED_PROXIES`: CIDRs (or `loopback`, `private`, `linklocal`) of the proxies in front of the
   * gateway whose `X-Forwarded-*` headers are believed (lib/core/client-address.ts). @default [] (nobody)
   */
  trustedProxies: readonly string[];
  /** `ADMIN_ALLOW_FROM`, CIDRs of operators (`/metrics`, `/_fleetgate/**`, the instance listing, the full `/health`). @default ['127.0.0.0/8', '::1/128', '::ffff:127.0.0.0/104'] */
  adminAllowFrom: string[];
  /** `ADMIN_TOKEN`: a bearer token that makes any caller an operator. */
  adminToken: string | undefined;
  /**
   * `GATEWAY_NAME`: this gateway's name, a token of at most 64 characters; the proxy's `Via`
   * identity (a request already carrying it is a loop: 508). @default a random id per process
   */
  gatewayName: string | undefined;
  /** `GATEWAY_MAX_HOPS`: a request already carrying this many `Via` entries gets 508. @default 10 */
  maxHops: number;
  /** `REGISTRY_SERVICE_KEYS_FILE`: per-service keys read from a JSON or YAML file; unset keeps registration open to allowed callers. */
  serviceKeys: ServiceKeySpec[] | undefined;
  /** `REGISTRY_REGISTER_LIMIT`: registration attempts per source address, `<burst>/<per second>` or `off`. @default { capacity: 20, refillPerSecond: 5 } */
  registerLimit: { capacity: number; refillPerSecond: number } | false;
  /** `REGISTRY_PRESERVE_THRESHOLD`. @default 0.15 */
  preserveThreshold: number;
  /** `REGISTRY_MAX_INSTANCES`: instances this gateway holds in total. @default 20000 */
  maxInstances: number;
  /** `REGISTRY_MAX_INSTANCES_PER_SERVICE`. @default 5000 */
  maxInstancesPerService: number;
  /** `REGISTRY_MAX_ROUTES_PER_SERVICE`: distinct routes of one service. @default 500 */
  maxRoutesPerService: number;
  /** `REGISTRY_LIST_TIMEOUT`: bound on one full re-list of the store. @default 10000 */
  registryListTimeoutMs: number;
  /** `HEALTH_CHECK_INTERVAL`. @default 30000 */
  healthIntervalMs: number;
  /** `HEALTH_CHECK_TIMEOUT`. @default 5000 */
  healthTimeoutMs: number;
  /** `HEALTH_MAX_FAILURES`. @default 3 */
  healthMaxFailures: number;
  /** `HEALTH_DOWN_INTERVAL`. @default 120000 */
  healthDownIntervalMs: number;
  /** `HEALTH_STOP_AFTER`. @default 10 */
  healthStopAfter: number;
  /** `PANIC_THRESHOLD`: panic routing over DOWN instances below this healthy share, `0`/`off` is off. @default 0 */
  panicThreshold: number;
  /** `SERVER_HEADERS_TIMEOUT` (lib/http/server-limits.ts). @default 15000 */
  serverHeadersTimeoutMs: number;
  /** `SERVER_REQUEST_TIMEOUT`: the whole request, body included. @default 60000 */
  serverRequestTimeoutMs: number;
  /** `SERVER_KEEPALIVE_TIMEOUT`: idle keep-alive connections. @default 5000 */
  serverKeepAliveTimeoutMs: number;
  /** `SERVER_MAX_HEADER_SIZE` in bytes; larger heads get 431. @default 16384 */
  serverMaxHeaderSize: number;
  /** `SERVER_MAX_CONNECTIONS`. @default 10000 */
  serverMaxConnections: number;
  /** `SHUTDOWN_DELAY`: on SIGTERM, time between `/readyz` failing and the listener closing. @default 0 */
  shutdownDelayMs: number;
  /** `SHUTDOWN_GRACE`: on SIGTERM, time in-flight requests get to finish. @default 10000 */
  shutdownGraceMs: number;
  /** `TRACE_URL`: OTLP endpoint; unset turns tracing off. */
  traceUrl: string | undefined;
  /** `LOG_LEVEL`. @default 'info' */
  logLevel: string;
  /** `ACCESS_LOG`: share of proxied requests logged (5xx always), `0`/`off` turns it off. @default 1 */
  accessLogSample: number;
}

/** Defaults for every variable. Frozen. */
export const ENV_DEFAULTS: Readonly<FleetgateEnv> = Object.freeze({
  port: 8080,
  host: '0.0.0.0',
  registryType: 'INMEMORY',
  registryTtlMs: 90_000,
  redisAddrs: [],
  etcdEndpoints: [],
  allowFrom: ['127.0.0.0/8', '::1/128', '::ffff:127.0.0.0/104'],
  registryToken: undefined,
  trustedProxies: Object.freeze([]) as readonly string[],
  adminAllowFrom: ['127.0.0.0/8', '::1/128', '::ffff:127.0.0.0/104'],
  adminToken: undefined,
  gatewayName: undefined,
  maxHops: 10,
  serviceKeys: undefined,
  registerLimit: Object.freeze({ capacity: 20, refillPerSecond: 5 }),
  preserveThreshold: 0.15,
  maxInstances: 20_000,
  maxInstancesPerService: 5_000,
  maxRoutesPerService: 500,
  registryListTimeoutMs: 10_000,
  healthIntervalMs: 30_000,
  healthTimeoutMs: 5_000,
  healthMaxFailures: 3,
  healthDownIntervalMs: 120_000,
  healthStopAfter: 10,
  panicThreshold: 0,
  serverHeadersTimeoutMs: 15_000,
  serverRequestTimeoutMs: 60_000,
  serverKeepAliveTimeoutMs: 5_000,
  serverMaxHeaderSize: 16_384,
  serverMaxConnections: 10_000,
  shutdownDelayMs: 0,
  shutdownGraceMs: 10_000,
  traceUrl: undefined,
  logLevel: 'info',
  accessLogSample: 1,
} satisfies FleetgateEnv);

type Env = Record<string, string | undefined>;

function fail(name: string, value: string, form: string): never {
  throw new FleetgateError('ERR_FG_INVALID_CONFIG', `${name}=${JSON.stringify(value)} is invalid: expected ${form}`, {
    details: { variable: name, value, expected: form },
  });
}

function read(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function duration(env: Env, name: string, dflt: number, min = 1): number {
  const raw = read(env, name);
  if (raw === undefined) return dflt;
  const ms = parseDuration(raw);
  if (ms === undefined || ms < min) fail(name, raw, DURATION_FORM);
  return ms;
}

function integer(env: Env, name: string, dflt: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) fail(name, raw, `an integer from ${min} to ${max}`);
  return n;
}

function list(env: Env, name: string): string[] | undefined {
  const raw = read(env, name);
  return raw
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * `REGISTRY_SERVICE_KEYS_FILE`: the file read and validated, every failure naming the variable.
 * @example serviceKeysFile(process.env) // undefined when the variable is unset
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` naming the variable.
 */
export function serviceKeysFile(env: Env = process.env): ServiceKeySpec[] | undefined {
  const name = 'REGISTRY_SERVICE_KEYS_FILE';
  const path = read(env, name);
  if (path === undefined) return undefined;
  const form = 'a readable JSON or YAML file: { keys: [{ name, key | sha256, services, permissions }] }';
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    fail(name, path, `${form} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    return parseServiceKeys(parseYamlText(text));
  } catch (err) {
    fail(name, path, `${form} (${(err as Error).message})`);
  }
}

/**
 * Parses the environment.
 * @example const env = parseEnv(process.env);
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` naming the first invalid variable.
 */
export function parseEnv(env: Env = process.env): FleetgateEnv {
  const d = ENV_DEFAULTS;
  const portName = read(env, 'ERUGATEWAYPORT') !== undefined ? 'ERUGATEWAYPORT' : 'PORT';
  const port = integer(env, portName, d.port, 0, 65535);

  const typeRaw = read(env, 'REGISTRY_TYPE');
  const registryType = (typeRaw?.toUpperCase() ?? d.registryType) as RegistryType;
  if (!REGISTRY_TYPES.includes(registryType))
    fail('REGISTRY_TYPE', typeRaw ?? '', `one of ${REGISTRY_TYPES.join('|')}`);

  const redisAddrs = list(env, 'REGISTRY_REDIS_ADDR') ?? [];
  for (const a of redisAddrs) {
    if (!/^rediss?:\/\/[^\s/]+(:\d+)?(\/\d*)?$/.test(a))
      fail('REGISTRY_REDIS_ADDR', a, 'redis://host:port[,redis://host:port...]');
  }
  if ((registryType === 'REDIS' || registryType === 'REDIS_CLUSTER') && redisAddrs.length === 0) {
    fail('REGISTRY_REDIS_ADDR', '', `redis://host:port (required when REGISTRY_TYPE=${registryType})`);
  }
  const etcdEndpoints = list(env, 'REGISTRY_ETCD_ENDPOINTS') ?? [];
  for (const e of etcdEndpoints) {
    if (!/^(https?:\/\/)?[^\s/:]+:\d+$/.test(e)) fail('REGISTRY_ETCD_ENDPOINTS', e, 'host:port[,host:port...]');
  }
  if (registryType === 'ETCD' && etcdEndpoints.length === 0) {
    fail('REGISTRY_ETCD_ENDPOINTS', '', 'host:port (required when REGISTRY_TYPE=ETCD)');
  }

  const allowFrom = list(env, 'REGISTRY_ALLOW_FROM') ?? [...d.allowFrom];
  for (const c of allowFrom) {
    if (!/^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(c))
      fail('REGISTRY_ALLOW_FROM', c, 'a comma-separated list of CIDRs, e.g. 10.0.0.0/8,::1/128');
  }

  const adminAllowFrom = list(env, 'ADMIN_ALLOW_FROM') ?? [...d.adminAllowFrom];
  for (const c of adminAllowFrom) {
    if (!/^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(c))
      fail('ADMIN_ALLOW_FROM', c, 'a comma-separated list of CIDRs, e.g. 10.0.0.0/8,::1/128');
  }

  const thresholdRaw = read(env, 'REGISTRY_PRESERVE_THRESHOLD');
  let preserveThreshold = d.preserveThreshold;
  if (thresholdRaw !== undefined) {
    preserveThreshold = Number(thresholdRaw);
    if (!(preserveThreshold > 0 && preserveThreshold <= 1))
      fail('REGISTRY_PRESERVE_THRESHOLD', thresholdRaw, 'a number in (0, 1]');
  }

  const limitRaw = read(env, 'REGISTRY_REGISTER_LIMIT');
  let registerLimit: FleetgateEnv['registerLimit'] = d.registerLimit;
  if (limitRaw !== undefined) {
    const m = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(limitRaw);
    if (limitRaw.toLowerCase() === 'off') registerLimit = false;
    else if (m && Number(m[1]) >= 1 && Number(m[2]) > 0)
      registerLimit = { capacity: Number(m[1]), refillPerSecond: Number(m[2]) };
    else fail('REGISTRY_REGISTER_LIMIT', limitRaw, '<burst>/<per second>, e.g. 20/5, or off');
  }

  const panicRaw = read(env, 'PANIC_THRESHOLD');
  let panicThreshold = d.panicThreshold;
  if (panicRaw !== undefined && panicRaw.toLowerCase() !== 'off') {
    panicThreshold = Number(panicRaw);
    if (!(panicThreshold >= 0 && panicThreshold <= 1))
      fail('PANIC_THRESHOLD', panicRaw, 'a number in [0, 1] (e.g. 0.5), or off');
  }

  const accessRaw = read(env, 'ACCESS_LOG');
  let accessLogSample = d.accessLogSample;
  if (accessRaw !== undefined) {
    accessLogSample = accessRaw.toLowerCase() === 'off' ? 0 : accessRaw.toLowerCase() === 'on' ? 1 : Number(accessRaw);
    if (!(accessLogSample >= 0 && accessLogSample <= 1))
      fail('ACCESS_LOG', accessRaw, 'a share of requests in [0, 1] (e.g. 0.1), on or off');
  }

  const trustedRaw = read(env, 'TRUSTED_PROXIES');
  let trustedProxies = d.trustedProxies;
  if (trustedRaw !== undefined) {
    try {
      trustedProxies = parseTrustProxy(list(env, 'TRUSTED_PROXIES'), 'TRUSTED_PROXIES');
    } catch {
      fail(
        'TRUSTED_PROXIES',
        trustedRaw,
        "a comma-separated list of your proxies' CIDRs or loopback, private, linklocal",
      );
    }
  }

  const gatewayName = read(env, 'GATEWAY_NAME');
  if (gatewayName !== undefined && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/.test(gatewayName)) {
    fail('GATEWAY_NAME', gatewayName, "a token of at most 64 characters: letters, digits and !#$%&'*+.^_`|~-");
  }

  const traceUrl = read(env, 'TRACE_URL');
  // host:4317 / grpc:// (OTLP/gRPC) or http(s):// (OTLP/HTTP): lib/telemetry/trace-endpoint.ts.
  if (traceUrl !== undefined) parseTraceEndpoint(traceUrl, env);

  return {
    port,
    host: read(env, 'HOST') ?? d.host,
    registryType,
    registryTtlMs: duration(env, 'REGISTRY_TTL', d.registryTtlMs, 100),
    redisAddrs,
    etcdEndpoints,
    allowFrom,
    registryToken: read(env, 'REGISTRY_TOKEN'),
    trustedProxies,
    adminAllowFrom,
    adminToken: read(env, 'ADMIN_TOKEN'),
    gatewayName,
    maxHops: integer(env, 'GATEWAY_MAX_HOPS', d.maxHops, 1, 1000),
    serviceKeys: serviceKeysFile(env),
    registerLimit,
    preserveThreshold,
    maxInstances: integer(env, 'REGISTRY_MAX_INSTANCES', d.maxInstances, 1, 10_000_000),
    maxInstancesPerService: integer(env, 'REGISTRY_MAX_INSTANCES_PER_SERVICE', d.maxInstancesPerService, 1, 10_000_000),
    maxRoutesPerService: integer(env, 'REGISTRY_MAX_ROUTES_PER_SERVICE', d.maxRoutesPerService, 1, 1_000_000),
    registryListTimeoutMs: duration(env, 'REGISTRY_LIST_TIMEOUT', d.registryListTimeoutMs, 1),
    healthIntervalMs: duration(env, 'HEALTH_CHECK_INTERVAL', d.healthIntervalMs),
    healthTimeoutMs: duration(env, 'HEALTH_CHECK_TIMEOUT', d.healthTimeoutMs),
    healthMaxFailures: integer(env, 'HEALTH_MAX_FAILURES', d.healthMaxFailures, 1, 1000),
    healthDownIntervalMs: duration(env, 'HEALTH_DOWN_INTERVAL', d.healthDownIntervalMs),
    healthStopAfter: integer(env, 'HEALTH_STOP_AFTER', d.healthStopAfter, 1, 100_000),
    panicThreshold,
    serverHeadersTimeoutMs: duration(env, 'SERVER_HEADERS_TIMEOUT', d.serverHeadersTimeoutMs),
    serverRequestTimeoutMs: duration(env, 'SERVER_REQUEST_TIMEOUT', d.serverRequestTimeoutMs),
    serverKeepAliveTimeoutMs: duration(env, 'SERVER_KEEPALIVE_TIMEOUT', d.serverKeepAliveTimeoutMs),
    serverMaxHeaderSize: integer(env, 'SERVER_MAX_HEADER_SIZE', d.serverMaxHeaderSize, 1024, 1_048_576),
    serverMaxConnections: integer(env, 'SERVER_MAX_CONNECTIONS', d.serverMaxConnections, 1, 10_000_000),
    shutdownDelayMs: duration(env, 'SHUTDOWN_DELAY', d.shutdownDelayMs, 0),
    shutdownGraceMs: duration(env, 'SHUTDOWN_GRACE', d.shutdownGraceMs, 0),
    traceUrl,
    logLevel: read(env, 'LOG_LEVEL') ?? d.logLevel,
    accessLogSample,
  };
}
