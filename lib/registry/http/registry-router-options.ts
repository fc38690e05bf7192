/**
 * Options of the registration HTTP API ({@link import('./registry-router.js').registry}): the
 * shape, the frozen defaults and the up-front validation.
 */
import { type Clock, realClock } from '../../clock.js';
import { serviceKeysFile } from '../../config/env.js';
import { parseTrustProxy, type TrustProxy } from '../../core/client-address.js';
import { mergeDefined } from '../../core/options-merge.js';
import { FleetgateError } from '../../errors.js';
import { type Logger, noopLogger } from '../../logger.js';
import type { RegistryApi } from '../registry-api.js';
import type { ServiceKeySpec } from '../service-keys.js';
import type { ListenAddress } from './self-target.js';

/** What the registration API reports to a metrics sink. */
export interface RegistryApiMetricsSink {
  /** A registration refused with 400 `ERR_FG_SELF_TARGET`: its instance URL is the gateway itself. */
  recordLoopDetected?(kind: 'self_target'): void;
}

/** The per-source limit on registration attempts. */
export interface RegistrationRateLimit {
  /** Burst size. */
  capacity: number;
  /** Attempts regained per second. */
  refillPerSecond: number;
}

/** Options for `registry()`. */
export interface RegistryRouterOptions {
  /** The registry to serve. When absent, one is created from the environment on first use (and closed by `close()`). */
  registry: RegistryApi | undefined;
  /** Path prefix of the API; `''` when mounted under a path (`app.use('/internal', registry({ prefix: '' }))`). @default '/internal' */
  prefix: string;
  /**
   * Caller networks allowed to use the API. An empty list allows nobody.
   * @default REGISTRY_ALLOW_FROM when set, else ['127.0.0.0/8', '::1/128', '::ffff:127.0.0.0/104']
   */
  allowFrom: readonly string[];
  /** Required `Authorization: Bearer` token. @default REGISTRY_TOKEN when set, else none */
  token: string | undefined;
  /** Largest registration body in bytes. @default 65536 */
  maxBodyBytes: number;
  /** Most routes in one registration. @default 256 */
  maxRoutes: number;
  /** Most characters in a service name or instance id. @default 64 */
  maxNameLength: number;
  /** Registration attempts per source address; `false` turns the limit off. @default { capacity: 20, refillPerSecond: 5 } */
  registrationRateLimit: RegistrationRateLimit | false;
  /** Time source of the rate limiter. @default realClock */
  clock: Clock;
  /** @default noopLogger */
  logger: Logger;
  /** Where refused self-targeting registrations are counted as loops (`createMetrics()` fits). @default undefined */
  metrics: RegistryApiMetricsSink | undefined;
  /**
   * The proxies in front of the gateway whose `X-Forwarded-For` is believed, as CIDRs (or
   * `loopback`/`private`/`linklocal`); the caller is the first address from the right that is not
   * one of them (lib/core/client-address.ts). `false` uses the socket address.
   * @default false
   */
  trustProxy: TrustProxy;
  /**
   * Per-service keys: when set (even empty), every registration needs an `X-Service-Key` that
   * names its service and every route `permission` (else 403 `ERR_FG_FORBIDDEN`), and such a key
   * may re-register a live instance id whose token was lost. When unset, allowFrom and the bearer
   * token decide, and a lost token can be replaced only from the registration's source address.
   * @default REGISTRY_SERVICE_KEYS_FILE when set, else undefined
   */
  serviceKeys: readonly ServiceKeySpec[] | undefined;
  /**
   * The gateway's own listen addresses, so an instance URL that reaches the gateway itself is
   * refused (400 `ERR_FG_SELF_TARGET`). The address the registration request arrived on is always
   * checked too; `createGateway()` passes its server's address here.
   * @default () => []
   */
  listenAddresses: () => readonly ListenAddress[];
}

/** Defaults for {@link RegistryRouterOptions}. Frozen. */
export const REGISTRY_ROUTER_DEFAULTS: Readonly<RegistryRouterOptions> = Object.freeze({
  registry: undefined,
  prefix: '/internal',
  allowFrom: Object.freeze(['127.0.0.0/8', '::1/128', '::ffff:127.0.0.0/104']),
  token: undefined,
  maxBodyBytes: 65_536,
  maxRoutes: 256,
  maxNameLength: 64,
  registrationRateLimit: Object.freeze({ capacity: 20, refillPerSecond: 5 }),
  clock: realClock,
  logger: noopLogger,
  metrics: undefined,
  trustProxy: false,
  serviceKeys: undefined,
  listenAddresses: () => [],
});

/**
 * Merges options over the environment (`REGISTRY_ALLOW_FROM`, `REGISTRY_TOKEN`, `REGISTRY_SERVICE_KEYS_FILE`) and the
 * defaults, then validates them.
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` naming the first invalid option.
 */
export function resolveRegistryRouterOptions(
  options: Partial<RegistryRouterOptions>,
  env: Record<string, string | undefined> = process.env,
): RegistryRouterOptions {
  const base: RegistryRouterOptions = { ...REGISTRY_ROUTER_DEFAULTS };
  const envAllow = env.REGISTRY_ALLOW_FROM?.trim();
  if (envAllow) {
    base.allowFrom = envAllow
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }
  const envToken = env.REGISTRY_TOKEN?.trim();
  if (envToken) base.token = envToken;
  if (options.serviceKeys === undefined) base.serviceKeys = serviceKeysFile(env);
  const o: RegistryRouterOptions = mergeDefined(base, options);

  const bad = (name: string, value: unknown, expected: string): never => {
    throw new FleetgateError(
      'ERR_FG_INVALID_CONFIG',
      `registry(): option ${name}=${String(value)} is invalid: ${expected}`,
      {
        details: { option: name, value, expected },
      },
    );
  };
  if (!(o.prefix === '' || /^\/[^?#\s]*[^/?#\s]$/.test(o.prefix)))
    bad('prefix', o.prefix, "'' or a path like /internal");
  if (!Array.isArray(o.allowFrom)) bad('allowFrom', o.allowFrom, 'an array of CIDRs');
  if (o.token !== undefined && (typeof o.token !== 'string' || !/^[^\s]+$/.test(o.token)))
    bad('token', '<redacted>', 'a non-empty string without whitespace');
  const positiveInt = (name: 'maxBodyBytes' | 'maxRoutes' | 'maxNameLength'): void => {
    if (!(Number.isInteger(o[name]) && o[name] >= 1)) bad(name, o[name], 'an integer ≥ 1');
  };
  positiveInt('maxBodyBytes');
  positiveInt('maxRoutes');
  positiveInt('maxNameLength');
  const limit = o.registrationRateLimit;
  if (limit !== false && (typeof limit !== 'object' || limit === null))
    bad('registrationRateLimit', limit, '{ capacity, refillPerSecond } or false');
  parseTrustProxy(o.trustProxy, 'registry(): option trustProxy');
  if (o.serviceKeys !== undefined && !Array.isArray(o.serviceKeys))
    bad('serviceKeys', o.serviceKeys, 'an array of { name, key | sha256, services, permissions }');
  if (typeof o.listenAddresses !== 'function') bad('listenAddresses', o.listenAddresses, 'a function');
  if (o.registry !== undefined && typeof o.registry.register !== 'function')
    bad('registry', o.registry, 'a RegistryApi');
  return o;
}
