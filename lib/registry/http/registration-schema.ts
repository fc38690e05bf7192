/**
 * The registration body (furt wire format, snake_case only) as a strict zod schema: unknown
 * fields are rejected at every level, and the result maps to a {@link RegistrationInput}.
 */
import { z } from 'zod';
import { exceedsDepth } from '../../http/json-depth.js';
import type { RegistrationInput, RouteSpec } from '../model.js';

/** Methods a route may name (`*` is any). */
export const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', '*'] as const;

/** Service names and instance ids: letters, digits, `.`, `_`, `-`, starting with a letter or digit. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/i;

/** Limits of the schema. */
export interface RegistrationLimits {
  /** Most characters in a service name or instance id. */
  maxNameLength: number;
  /** Most routes in one registration. */
  maxRoutes: number;
  /** Most characters in a route path. @default 512 */
  maxPathLength?: number;
  /** Most bytes of `metadata` as JSON. @default 4096 */
  maxMetadataBytes?: number;
  /** Deepest nesting of `metadata` (`{}` is 1). @default 8 */
  maxMetadataDepth?: number;
}

/** The deepest nesting any registration body may have; checked before the schema runs. */
export const MAX_BODY_DEPTH = 16;

// No whitespace or control characters; they have no business in paths, labels or versions.
const PRINTABLE = /^[^\s\p{Cc}]+$/u;

/** True when `name` is a valid service name or instance id within `maxLength`. */
export function isValidName(name: string, maxLength: number): boolean {
  return name.length <= maxLength && NAME_PATTERN.test(name);
}

function nameSchema(what: string, maxLength: number) {
  return z
    .string()
    .min(1, `${what} must not be empty`)
    .max(maxLength, `${what} must be at most ${maxLength} characters`)
    .regex(NAME_PATTERN, `${what} may hold only letters, digits, '.', '_' and '-', starting with a letter or digit`);
}

function label(max: number) {
  return z.string().min(1).max(max).regex(PRINTABLE, 'must not contain whitespace or control characters');
}

const urlSchema = z
  .string()
  .max(2048)
  .superRefine((value, ctx) => {
    const reason = urlProblem(value);
    if (reason !== undefined) ctx.addIssue({ code: 'custom', message: reason });
  });

/** Why `value` is not an acceptable instance base URL, or `undefined` when it is. */
function urlProblem(value: string): string | undefined {
  // Require the literal `//`: WHATWG parsing would otherwise read `http:foo` as `http://foo/`.
  if (!/^https?:\/\//i.test(value)) return 'must be an http: or https: URL';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be a valid URL';
  }
  if (url.hostname === '') return 'must name a host';
  if (url.username !== '' || url.password !== '') return 'must not carry credentials';
  if (url.hash !== '' || value.includes('#')) return 'must not carry a fragment';
  return undefined;
}

/**
 * Builds the schema for the given limits.
 * @example
 * const schema = createRegistrationSchema({ maxNameLength: 64, maxRoutes: 256 });
 * const input = toRegistrationInput(schema.parse(body));
 */
export function createRegistrationSchema(limits: RegistrationLimits) {
  const maxPath = limits.maxPathLength ?? 512;
  const maxMetadata = limits.maxMetadataBytes ?? 4096;
  const maxDepth = limits.maxMetadataDepth ?? 8;
  const route = z.strictObject({
    method: z
      .string()
      .transform((m) => m.toUpperCase())
      .pipe(z.enum(ROUTE_METHODS, { error: `must be one of ${ROUTE_METHODS.join('|')}` }))
      .optional(),
    // The pattern itself is judged by the route grammar at registration (ERR_FG_INVALID_ROUTE).
    path: z.string().min(1).max(maxPath),
    protocol: z.enum(['http', 'ws']).optional(),
    public: z.boolean().optional(),
    permission: label(256).optional(),
    timeout_ms: z.int().min(1).max(3_600_000).optional(),
    // Judged in full (sizes, safe regexes, names) at registration: ERR_FG_INVALID_ROUTE with the index.
    predicates: z.record(z.string(), z.unknown()).optional(),
    gateways: z.array(z.string().max(64)).max(16, 'at most 16 gateways').optional(),
  });
  return z.strictObject({
    service: nameSchema('service', limits.maxNameLength),
    url: urlSchema,
    health_endpoint: z
      .string()
      .max(maxPath)
      .regex(/^\//, "must start with '/'")
      .regex(PRINTABLE, 'must not contain whitespace or control characters')
      .optional(),
    routes: z.array(route).max(limits.maxRoutes, `at most ${limits.maxRoutes} routes`).optional(),
    instance_id: nameSchema('instance_id', limits.maxNameLength).optional(),
    weight: z.int().min(0).max(1000).optional(),
    metadata: z
      .record(z.string(), z.unknown())
      .refine((m) => !exceedsDepth(m, maxDepth), `must not nest deeper than ${maxDepth} levels`)
      .refine(
        (m) => Buffer.byteLength(JSON.stringify(m)) <= maxMetadata,
        `must be at most ${maxMetadata} bytes of JSON`,
      )
      .optional(),
    version: label(64).optional(),
    zone: label(64).optional(),
  });
}

/** A validated registration body. */
export type RegistrationBody = z.output<ReturnType<typeof createRegistrationSchema>>;

/** One schema problem, as reported in `details`. */
export interface ValidationIssue {
  /** Where, e.g. `routes[3].method`; `''` for the body itself. */
  path: string;
  message: string;
}

/**
 * Flattens zod issues into `{ path, message }` items.
 * @example issuesOf(result.error.issues) // [{ path: 'routes[0].x', message: 'Unrecognized key: "x"' }]
 */
export function issuesOf(issues: readonly z.core.$ZodIssue[]): ValidationIssue[] {
  return issues.map((issue) => {
    let path = '';
    for (const key of issue.path)
      path += typeof key === 'number' ? `[${key}]` : path === '' ? String(key) : `.${String(key)}`;
    if (issue.code === 'unrecognized_keys') {
      return { path, message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}` };
    }
    return { path, message: issue.message };
  });
}

/**
 * Maps a validated wire body to the registry's input.
 * @example await registry.register(toRegistrationInput(body));
 */
export function toRegistrationInput(body: RegistrationBody): RegistrationInput {
  const input: RegistrationInput = { service: body.service, url: body.url };
  if (body.instance_id !== undefined) input.instanceId = body.instance_id;
  if (body.health_endpoint !== undefined) input.healthEndpoint = body.health_endpoint;
  if (body.routes !== undefined) input.routes = body.routes.map(toRouteSpec);
  if (body.weight !== undefined) input.weight = body.weight;
  if (body.version !== undefined) input.version = body.version;
  if (body.zone !== undefined) input.zone = body.zone;
  if (body.metadata !== undefined) input.metadata = body.metadata;
  return input;
}

function toRouteSpec(route: NonNullable<RegistrationBody['routes']>[number]): RouteSpec {
  const spec: RouteSpec = { method: route.method ?? '*', path: route.path };
  if (route.protocol !== undefined) spec.protocol = route.protocol;
  if (route.public !== undefined) spec.public = route.public;
  if (route.permission !== undefined) spec.permission = route.permission;
  if (route.timeout_ms !== undefined) spec.timeoutMs = route.timeout_ms;
  if (route.predicates !== undefined) spec.predicates = route.predicates as RouteSpec['predicates'] & object;
  if (route.gateways !== undefined) spec.gateways = route.gateways;
  return spec;
}
