/**
 * The registration body's fast path: a hand-written check that accepts only bodies the zod schema
 * (registration-schema.ts) accepts, and returns what the schema would return for them. Anything
 * it is not sure of (a wrong type, an unknown field, a length past a limit, a `__proto__` key) it
 * leaves to the schema, which stays the authority: it rejects with the coded, detailed issues the
 * API documents, and accepts the rare valid body the fast path passes on. A registration with a
 * valid body so costs a few type checks and regex tests instead of zod's generic walk.
 * registration-fast-check.test.ts holds the two to the same answers over generated bodies.
 */
import { exceedsDepth } from '../../http/json-depth.js';
import type { RegistrationBody, RegistrationLimits } from './registration-schema.js';

/** The route methods, as in registration-schema.ts. */
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', '*']);
const NAME = /^[a-z0-9][a-z0-9._-]*$/i;
const PRINTABLE = /^[^\s\p{Cc}]+$/u;
const HTTP_URL = /^https?:\/\//i;
const BODY_KEYS = new Set([
  'service',
  'url',
  'health_endpoint',
  'routes',
  'instance_id',
  'weight',
  'metadata',
  'version',
  'zone',
]);
const ROUTE_KEYS = new Set([
  'method',
  'path',
  'protocol',
  'public',
  'permission',
  'timeout_ms',
  'predicates',
  'gateways',
]);

type Route = NonNullable<RegistrationBody['routes']>[number];

/**
 * Builds the fast check for the schema's limits: `check(body)` is the validated body, or
 * `undefined` when the schema must decide.
 * @example const check = createFastRegistrationCheck({ maxNameLength: 64, maxRoutes: 256 }); check(body) ?? schema.parse(body)
 */
export function createFastRegistrationCheck(
  limits: RegistrationLimits,
): (body: unknown) => RegistrationBody | undefined {
  const maxPath = limits.maxPathLength ?? 512;
  const maxMetadata = limits.maxMetadataBytes ?? 4096;
  const maxDepth = limits.maxMetadataDepth ?? 8;
  const name = (v: unknown): v is string => typeof v === 'string' && short(v, limits.maxNameLength) && NAME.test(v);

  const route = (r: unknown): Route | undefined => {
    if (!isRecord(r) || !onlyKeys(r, ROUTE_KEYS)) return undefined;
    const { method, path, protocol, permission, timeout_ms, predicates, gateways } = r;
    if (typeof path !== 'string' || !short(path, maxPath)) return undefined;
    let upper: string | undefined;
    if (method !== undefined) {
      if (typeof method !== 'string') return undefined;
      upper = method.toUpperCase();
      if (!METHODS.has(upper)) return undefined;
    }
    if (protocol !== undefined && protocol !== 'http' && protocol !== 'ws') return undefined;
    if (r.public !== undefined && typeof r.public !== 'boolean') return undefined;
    if (permission !== undefined && !label(permission, 256)) return undefined;
    if (timeout_ms !== undefined && !int(timeout_ms, 1, 3_600_000)) return undefined;
    if (predicates !== undefined && !isRecord(predicates)) return undefined;
    if (gateways !== undefined) {
      if (!Array.isArray(gateways) || gateways.length > 16) return undefined;
      for (const g of gateways) if (typeof g !== 'string' || !short(g, 64)) return undefined;
    }
    return (upper === undefined ? { ...r } : { ...r, method: upper }) as Route;
  };

  return (body) => {
    if (!isRecord(body) || !onlyKeys(body, BODY_KEYS)) return undefined;
    const { service, url, health_endpoint, routes, instance_id, weight, metadata, version, zone } = body;
    if (!name(service)) return undefined;
    if (typeof url !== 'string' || !short(url, 2048) || !acceptableUrl(url)) return undefined;
    if (
      health_endpoint !== undefined &&
      (typeof health_endpoint !== 'string' ||
        !short(health_endpoint, maxPath) ||
        !health_endpoint.startsWith('/') ||
        !PRINTABLE.test(health_endpoint))
    )
      return undefined;
    if (instance_id !== undefined && !name(instance_id)) return undefined;
    if (weight !== undefined && !int(weight, 0, 1000)) return undefined;
    if (version !== undefined && !label(version, 64)) return undefined;
    if (zone !== undefined && !label(zone, 64)) return undefined;
    if (
      metadata !== undefined &&
      (!isRecord(metadata) ||
        exceedsDepth(metadata, maxDepth) ||
        Buffer.byteLength(JSON.stringify(metadata)) > maxMetadata)
    )
      return undefined;
    const out = { ...body } as RegistrationBody;
    if (routes !== undefined) {
      if (!Array.isArray(routes) || routes.length > limits.maxRoutes) return undefined;
      const checked: Route[] = [];
      for (const r of routes) {
        const c = route(r);
        if (c === undefined) return undefined;
        checked.push(c);
      }
      out.routes = checked;
    }
    if (metadata !== undefined) out.metadata = { ...metadata };
    return out;
  };
}

/**
 * A plain JSON object the schema's records and strict objects take as is: not an array, and
 * without an own `__proto__` key (which zod's record drops from its output).
 */
function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Object.hasOwn(v, '__proto__');
}

function onlyKeys(v: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  for (const key of Object.keys(v)) if (!allowed.has(key) || v[key] === undefined) return false;
  return true;
}

/** Non-empty and at most `max` UTF-16 units: within the schema's bounds however it counts characters. */
function short(v: string, max: number): boolean {
  return v.length > 0 && v.length <= max;
}

function label(v: unknown, max: number): boolean {
  return typeof v === 'string' && short(v, max) && PRINTABLE.test(v);
}

function int(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
}

/** The schema's URL rule (an http: or https: URL with a host, no credentials, no fragment). */
function acceptableUrl(value: string): boolean {
  if (!HTTP_URL.test(value) || value.includes('#')) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.hostname !== '' && url.username === '' && url.password === '';
}
