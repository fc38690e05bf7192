/**
 * The schema of `fleetgate.yaml` (docs/config-file.md): strict (an unknown key is an error, so a
 * typo never silently does nothing), bounded, camelCase. Route predicates and API keys are judged
 * again in full by their own validators when the configuration is applied.
 */
import { z } from 'zod';
import { DURATION_FORM, parseDuration } from '../duration.js';

/** A duration: `500ms`, `90s`, `2m`, `1h`, or a number of ms. */
const duration = z.union([z.string().max(32), z.number()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `must be a duration: ${DURATION_FORM}` });
    return z.NEVER;
  }
  return ms;
});

const condition = z.strictObject({
  name: z.string().min(1).max(128),
  value: z.string().max(256).optional(),
  regex: z.string().max(128).optional(),
});

const predicates = z.strictObject({
  hosts: z.array(z.string().max(253)).max(16).optional(),
  headers: z.array(condition).max(16).optional(),
  query: z.array(condition).max(16).optional(),
  claims: z.array(condition).max(16).optional(),
});

const route = z.strictObject({
  path: z.string().min(1).max(512),
  method: z.string().max(16).optional(),
  service: z.string().max(128).optional(),
  target: z.string().max(2048).optional(),
  version: z.string().max(64).optional(),
  stripPrefix: z.string().max(512).optional(),
  permission: z.string().max(256).optional(),
  timeout: duration.optional(),
  protocol: z.enum(['http', 'ws']).optional(),
  predicates: predicates.optional(),
  gateways: z.array(z.string().max(64)).max(16).optional(),
});

const apiKey = z.strictObject({
  name: z.string().min(1).max(128),
  key: z.string().max(512).optional(),
  sha256: z.string().max(64).optional(),
  permissions: z.array(z.string().max(256)).max(256).optional(),
  expires: z.union([z.string().max(64), z.number()]).optional(),
  rateLimitClass: z.string().max(64).optional(),
});

const apiKeys = z.strictObject({
  keys: z.array(apiKey).max(10_000).optional(),
  file: z.string().max(4096).optional(),
  header: z.union([z.string().max(128), z.literal(false)]).optional(),
  authorizationScheme: z.union([z.string().max(64), z.literal(false)]).optional(),
  required: z.boolean().optional(),
  nameHeader: z.union([z.string().max(128), z.literal(false)]).optional(),
  stripCredential: z.boolean().optional(),
});

const stringOrList = z.union([z.string().max(2048), z.array(z.string().max(2048)).max(16)]);

const jwt = z.strictObject({
  jwksUrl: z.string().max(2048).optional(),
  publicKey: z.string().max(16_384).optional(),
  secret: z.string().max(1024).optional(),
  algorithms: z.array(z.string().max(16)).max(16).optional(),
  issuer: stringOrList.optional(),
  audience: stringOrList.optional(),
  clockSkew: duration.optional(),
  required: z.boolean().optional(),
  permissionAs: z.union([z.enum(['scope', 'role']), z.literal(false)]).optional(),
  scopeClaim: z.string().max(128).optional(),
  rolesClaim: z.string().max(128).optional(),
  relayToken: z.boolean().optional(),
  claimHeaders: z.union([z.record(z.string().max(128), z.string().max(128)), z.literal(false)]).optional(),
  jwksMinRefreshInterval: duration.optional(),
  routeRequirements: z
    .record(
      z.string().max(600),
      z.strictObject({
        scopes: z.array(z.string().max(256)).max(64).optional(),
        roles: z.array(z.string().max(256)).max(64).optional(),
      }),
    )
    .optional(),
});

/** A limit: `limit` per `window`, or a token bucket. */
const limit = z.strictObject({
  limit: z.int().min(1).max(1e9).optional(),
  window: z.union([z.string().max(32), z.number()]).optional(),
  capacity: z.number().positive().max(1e9).optional(),
  refillPerSecond: z.number().positive().max(1e9).optional(),
});

const rateLimits = z.strictObject({
  store: z.enum(['memory', 'redis']).optional(),
  redisUrl: z.string().max(2048).optional(),
  key: z.enum(['ip', 'api-key', 'jwt-sub']).optional(),
  failMode: z.enum(['open', 'closed']).optional(),
  global: limit.optional(),
  routes: z
    .array(limit.extend({ path: z.string().min(1).max(512), method: z.string().max(16).optional() }))
    .max(1000)
    .optional(),
  classes: z.record(z.string().max(64), limit).optional(),
});

const timeouts = z.strictObject({
  upstream: duration.optional(),
  connect: duration.optional(),
  headers: duration.optional(),
  request: duration.optional(),
  keepAlive: duration.optional(),
});

const gateway = z.strictObject({
  name: z.string().max(64).optional(),
  port: z.int().min(0).max(65_535).optional(),
  host: z.string().max(255).optional(),
});

/** The whole file. Every section is optional. */
export const configFileSchema = z.strictObject({
  gateway: gateway.optional(),
  routes: z.array(route).max(10_000).optional(),
  apiKeys: apiKeys.optional(),
  jwt: jwt.optional(),
  rateLimits: rateLimits.optional(),
  // Passed as options to the security-header and CORS middlewares, which validate them.
  securityHeaders: z.union([z.record(z.string(), z.unknown()), z.literal(false)]).optional(),
  cors: z.union([z.record(z.string(), z.unknown()), z.literal(false)]).optional(),
  panicThreshold: z.number().min(0).max(1).optional(),
  timeouts: timeouts.optional(),
});

/** A validated `fleetgate.yaml`. Durations are in ms. */
export type ConfigFile = z.output<typeof configFileSchema>;
/** One static route of the file. */
export type ConfigRoute = NonNullable<ConfigFile['routes']>[number];
