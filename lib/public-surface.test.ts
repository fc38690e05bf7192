/**
 * Pins the public surface: every entry point of package.json `exports` and the exact, sorted
 * list of runtime names it exports, plus compile-time checks (tsc type-checks this file) that a
 * few central signatures stay what users wrote code against and that internals stay internal.
 *
 * Changing the surface is deliberate: when you add, rename or remove a public export, update
 * PUBLIC_SURFACE below (and the type checks when a signature changes) in the same commit, and say
 * so in the commit message. To print the current lists:
 *   node --import tsx -e "import('./lib/index.ts').then((m) => console.log(Object.keys(m).sort()))"
 * An internal helper (`takeToken`, `routesCollide`, `selectInstance`, `compose`, ...) is imported
 * from its own module by the code and tests that need it, never through a barrel.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type * as conformance from './conformance/index.js';
import type { CheckLeaseFactory, RateLimitStoreFactory } from './conformance/index.js';
import type * as fleetgate from './index.js';

/** Runtime export names of `fleetgate`, sorted (as const: the compiler checks them too). */
const MAIN = [
  'ADMIN_ACCESS_DEFAULTS',
  'API_KEYS_DEFAULTS',
  'BALANCER_NAMES',
  'CONSUL_API_DEFAULTS',
  'CORS_DEFAULTS',
  'ClientAddressResolver',
  'DISCOVERY_PROXY_DEFAULTS',
  'DURATION_FORM',
  'ENV_DEFAULTS',
  'ERROR_CODES',
  'EUREKA_API_DEFAULTS',
  'FakeClock',
  'FleetgateError',
  'GATEWAY_DEFAULTS',
  'HEALTH_AGGREGATOR_DEFAULTS',
  'HEALTH_CHECK_DEFAULTS',
  'HealthChecker',
  'INSTANCE_STATUSES',
  'JWKS_CACHE_DEFAULTS',
  'JWT_AUTH_DEFAULTS',
  'JwksCache',
  'LeastConnectionsBalancer',
  'MEMORY_BACKEND_DEFAULTS',
  'METRICS_DEFAULTS',
  'MemoryBackend',
  'MemoryCheckLease',
  'MemoryKeyStore',
  'MemoryStore',
  'RATE_LIMIT_DEFAULTS',
  'REDIS_KEY_STORE_DEFAULTS',
  'REGISTRY_DEFAULTS',
  'REGISTRY_ROUTER_DEFAULTS',
  'REGISTRY_TYPES',
  'ROUTE_TABLE_DEFAULTS',
  'RedisCheckLease',
  'RedisKeyStore',
  'RedisStore',
  'Registry',
  'RoundRobinBalancer',
  'RouteTable',
  'SECURITY_HEADERS_DEFAULTS',
  'StickyBalancer',
  'WEBSOCKET_GATEWAY_DEFAULTS',
  'WeightedBalancer',
  'adminGuard',
  'apiKeyOf',
  'apiKeys',
  'backendFromEnv',
  'buildHealthReport',
  'closeDefaultRegistry',
  'consulApi',
  'cors',
  'createAccessLog',
  'createAdminAccess',
  'createAllowList',
  'createBalancer',
  'createExpressServer',
  'createGateway',
  'createKeyGenerator',
  'createMetrics',
  'createRegistry',
  'defaultRegistry',
  'discoveryProxy',
  'eurekaApi',
  'explain',
  'explainEndpoint',
  'fleetgateTarget',
  'hashApiKey',
  'healthAggregator',
  'healthChannel',
  'isFleetgateError',
  'isRouteConflictError',
  'isStoreUnavailableError',
  'isUnknownInstanceError',
  'jwtAuth',
  'jwtClaimsOf',
  'loadApiKeyFile',
  'noopLogger',
  'packageVersion',
  'parseApiKeySpecs',
  'parseCidr',
  'parseDuration',
  'parseEnv',
  'rateLimit',
  'rateLimitChannel',
  'realClock',
  'redactHealthReport',
  'registry',
  'registryChannel',
  'requestClaims',
  'routingChannel',
  'securityHeaders',
  'setRequestClaims',
  'startTracing',
  'websocketGateway',
] as const;

/** Runtime export names per `exports` subpath, sorted. */
const PUBLIC_SURFACE: Record<string, readonly string[]> = {
  '.': MAIN,
  './client': [
    'BACKOFF_DEFAULTS',
    'FleetgateError',
    'REGISTER_SERVICE_DEFAULTS',
    'SERVE_MESSAGE_ROUTES_DEFAULTS',
    'ServiceRegistration',
    'backoffCeiling',
    'backoffDelay',
    'isFleetgateError',
    'isUnknownInstanceError',
    'jitteredInterval',
    'registerService',
    'serveMessageRoutes',
  ],
  './conformance': [
    'CHECK_LEASE_CONFORMANCE_DEFAULTS',
    'CONFORMANCE_DEFAULTS',
    'RATE_LIMIT_STORE_CONFORMANCE_DEFAULTS',
    'checkLeaseCases',
    'conformanceCases',
    'describeCheckLease',
    'describeRateLimitStore',
    'describeRegistryBackend',
    'rateLimitStoreCases',
    'waitFor',
  ],
  './backends/redis': ['REDIS_BACKEND_DEFAULTS', 'RedisBackend'],
  './backends/etcd': ['ETCD_BACKEND_DEFAULTS', 'EtcdBackend', 'EtcdCheckLease', 'createEtcdClient'],
};

const ROOT = new URL('../', import.meta.url);

/** package.json `exports`: subpath → the source file its `default` condition is built from. */
function entryPoints(): Map<string, URL> {
  const pkg = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as {
    exports: Record<string, string | { types: string; default: string }>;
  };
  const out = new Map<string, URL>();
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue; // ./package.json
    assert.deepEqual(Object.keys(target)[0], 'types', `${subpath}: "types" comes first`);
    const source = target.default.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts');
    out.set(subpath, new URL(source, ROOT));
  }
  return out;
}

describe('public surface', () => {
  it('package.json exports exactly the pinned entry points', () => {
    assert.deepEqual([...entryPoints().keys()].sort(), Object.keys(PUBLIC_SURFACE).sort());
  });

  for (const [subpath, file] of entryPoints()) {
    it(`fleetgate${subpath.slice(1)} exports exactly the pinned runtime names`, async () => {
      const mod = (await import(file.href)) as Record<string, unknown>;
      assert.deepEqual(Object.keys(mod).sort(), [...(PUBLIC_SURFACE[subpath] ?? [])]);
    });
  }
});

// ---- compile-time checks (tsc -p tsconfig.json type-checks this file; nothing here runs) ----

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Fails to compile unless `T` is `true`. */
function expectType<_T extends true>(): void {}
void expectType;

type Barrel = typeof fleetgate;
// The runtime names, checked by the compiler too (a missing or extra name is a type error).
expectType<Equal<keyof Barrel, (typeof MAIN)[number]>>();
expectType<Equal<Extract<keyof Barrel, 'takeToken' | 'routesCollide' | 'selectInstance' | 'compose'>, never>>();
// Middleware factories take partial options and return a node:http handler.
expectType<Equal<Parameters<Barrel['rateLimit']>[0], Partial<fleetgate.RateLimitOptions> | undefined>>();
expectType<Equal<ReturnType<Barrel['rateLimit']>, fleetgate.RateLimitMiddleware>>();
expectType<Equal<ReturnType<Barrel['registry']>, fleetgate.RegistryMiddleware>>();
expectType<Equal<ReturnType<Barrel['discoveryProxy']>, fleetgate.DiscoveryProxy>>();
expectType<Equal<Parameters<Barrel['apiKeys']>[0], Partial<fleetgate.ApiKeysOptions> | undefined>>();
expectType<Equal<ReturnType<Barrel['apiKeys']>, fleetgate.ApiKeysMiddleware>>();
expectType<Equal<Parameters<Barrel['jwtAuth']>[0], Partial<fleetgate.JwtAuthOptions> | undefined>>();
expectType<Equal<ReturnType<Barrel['jwtAuth']>, fleetgate.JwtAuthMiddleware>>();
// The pluggable interfaces users implement.
expectType<Equal<keyof fleetgate.RateLimitStore, 'name' | 'take' | 'close'>>();
expectType<Equal<keyof fleetgate.CheckLease, 'tryAcquire' | 'release'>>();
expectType<Equal<keyof fleetgate.KeyStore, 'name' | 'lookup' | 'put' | 'remove' | 'close'>>();
// The conformance suites accept the stores the barrel exports.
expectType<fleetgate.MemoryStore extends Awaited<ReturnType<RateLimitStoreFactory>> ? true : false>();
expectType<fleetgate.MemoryCheckLease extends Awaited<ReturnType<CheckLeaseFactory>> ? true : false>();
expectType<Equal<ReturnType<(typeof conformance)['describeRateLimitStore']>, void>>();
// websocketGateway(): a given registry types its tables as present; the zero-argument form (the default registry) as maybe absent.
declare const websocketGatewayType: Barrel['websocketGateway'];
declare const someRegistry: fleetgate.RegistryApi;
/** Never called: the calls are only type-checked. */
function websocketGatewayOverloads(): void {
  const given = websocketGatewayType({ registry: someRegistry });
  const zeroArgument = websocketGatewayType();
  expectType<Equal<typeof given, fleetgate.WebSocketGateway>>();
  expectType<Equal<typeof zeroArgument, fleetgate.DefaultRegistryWebSocketGateway>>();
  expectType<Equal<typeof zeroArgument.routeTable, fleetgate.RouteTable | undefined>>();
}
void websocketGatewayOverloads;
