/**
 * fleetgate: a service registry, discovery proxy, rate limiter and health aggregator for an
 * Express or node:http gateway. The client SDK is `fleetgate/client`; the backend conformance
 * suite is `fleetgate/conformance`.
 */

export { loadApiKeyFile } from './auth/api-key-file.js';
export type { ApiKeyRecord, ApiKeySpec } from './auth/api-key-spec.js';
export { hashApiKey, parseApiKeySpecs } from './auth/api-key-spec.js';
export type { ApiKeyIdentity, ApiKeysMiddleware } from './auth/api-keys.js';
export { apiKeyOf, apiKeys } from './auth/api-keys.js';
export type { ApiKeysOptions } from './auth/api-keys-options.js';
export { API_KEYS_DEFAULTS } from './auth/api-keys-options.js';
export type { AuthMechanism, AuthMetricsSink, AuthRejection } from './auth/auth-metrics-sink.js';
export type { FailedAttemptsOptions } from './auth/failed-attempts.js';
export type { JwksCacheOptions } from './auth/jwks-cache.js';
export { JWKS_CACHE_DEFAULTS, JwksCache } from './auth/jwks-cache.js';
export type { JwtAuthMiddleware } from './auth/jwt-auth.js';
export { jwtAuth, jwtClaimsOf } from './auth/jwt-auth.js';
export type { JwtAuthOptions, JwtRequirement } from './auth/jwt-auth-options.js';
export { JWT_AUTH_DEFAULTS } from './auth/jwt-auth-options.js';
export type { KeyStore } from './auth/key-store.js';
export { MemoryKeyStore } from './auth/memory-key-store.js';
export type { RedisKeyStoreOptions } from './auth/redis-key-store.js';
export { REDIS_KEY_STORE_DEFAULTS, RedisKeyStore } from './auth/redis-key-store.js';
export type { Clock, TimerHandle } from './clock.js';
export { FakeClock, realClock } from './clock.js';
export type { ConsulApiMiddleware, ConsulApiOptions } from './compat/consul/consul-api.js';
export { CONSUL_API_DEFAULTS, consulApi } from './compat/consul/consul-api.js';
export type { EurekaApiMiddleware, EurekaApiOptions } from './compat/eureka/eureka-api.js';
export { EUREKA_API_DEFAULTS, eurekaApi } from './compat/eureka/eureka-api.js';
export { DURATION_FORM, parseDuration } from './config/duration.js';
export type { FleetgateEnv, RegistryType } from './config/env.js';
export { ENV_DEFAULTS, parseEnv, REGISTRY_TYPES } from './config/env.js';
export type { AllowList, Cidr, ClientAddress, TrustProxy } from './core/client-address.js';
export { ClientAddressResolver, createAllowList, parseCidr } from './core/client-address.js';
export type { RequestClaims } from './core/request-claims.js';
export { requestClaims, setRequestClaims } from './core/request-claims.js';
export type { RoutePredicates, ValueCondition } from './core/route-predicates.js';
export { healthChannel, rateLimitChannel, registryChannel, routingChannel } from './diagnostics.js';
export type { ErrorCode, FleetgateErrorOptions } from './errors.js';
export {
  ERROR_CODES,
  FleetgateError,
  isFleetgateError,
  isRouteConflictError,
  isStoreUnavailableError,
  isUnknownInstanceError,
} from './errors.js';
export type { Gateway, GatewayCloseOptions, GatewayOptions } from './gateway.js';
export { createGateway, GATEWAY_DEFAULTS } from './gateway.js';
export type { GatewayHealth } from './gateway-health.js';
export type { CheckLease } from './health/check-lease.js';
export { MemoryCheckLease, RedisCheckLease } from './health/check-lease.js';
export type { EtcdCheckLease } from './health/etcd-check-lease.js';
export type {
  HealthAggregatorMiddleware,
  HealthAggregatorOptions,
  HealthReport,
  InstanceHealthReport,
  OverallHealth,
  RedactedHealthReport,
  ServiceHealthReport,
} from './health/health-aggregator.js';
export {
  buildHealthReport,
  HEALTH_AGGREGATOR_DEFAULTS,
  healthAggregator,
  redactHealthReport,
} from './health/health-aggregator.js';
export type { HealthCheckerOptions, HealthTransition, InstanceHealth } from './health/health-check-options.js';
export { HEALTH_CHECK_DEFAULTS } from './health/health-check-options.js';
export { HealthChecker } from './health/health-checker.js';
export type { Probe, ProbeResult, ProbeTarget } from './health/probes.js';
export type { AdminAccess, AdminAccessOptions, AdminGuardOptions } from './http/admin-access.js';
export { ADMIN_ACCESS_DEFAULTS, adminGuard, createAdminAccess } from './http/admin-access.js';
export type { Middleware, Next } from './http/compose.js';
export type { ExplainEndpointOptions } from './http/explain-endpoint.js';
export { explainEndpoint } from './http/explain-endpoint.js';
export type { ExpressLikeApp, ExpressServerOptions } from './http/express-server.js';
export { createExpressServer } from './http/express-server.js';
export type { Logger } from './logger.js';
export { noopLogger } from './logger.js';
export type { DiscoveryProxy } from './proxy/discovery-proxy.js';
export { discoveryProxy } from './proxy/discovery-proxy.js';
export type { FleetgateTarget, FleetgateTargetOptions } from './proxy/http-proxy-target.js';
export { fleetgateTarget } from './proxy/http-proxy-target.js';
export type {
  BreakerStateName,
  LoopKind,
  ProxyMetricsSink,
  ProxyRequestRecord,
  RetryReason,
} from './proxy/proxy-metrics-sink.js';
export type { DiscoveryProxyOptions, StickyOptions } from './proxy/proxy-options.js';
export { DISCOVERY_PROXY_DEFAULTS } from './proxy/proxy-options.js';
export type { KeySpec } from './ratelimit/key-generators.js';
export { createKeyGenerator } from './ratelimit/key-generators.js';
export type { MemoryStoreOptions } from './ratelimit/memory-store.js';
export { MemoryStore } from './ratelimit/memory-store.js';
export type {
  RateLimitMiddleware,
  RateLimitOptions,
  RateLimitOutcome,
  RouteLimit,
} from './ratelimit/rate-limit.js';
export { RATE_LIMIT_DEFAULTS, rateLimit } from './ratelimit/rate-limit.js';
export type { RedisStoreOptions } from './ratelimit/redis-store.js';
export { RedisStore } from './ratelimit/redis-store.js';
export type { RateLimitStore } from './ratelimit/store.js';
export type { BucketConfig, LimitSpec, RateLimitDecision } from './ratelimit/token-bucket.js';
export type { EtcdBackend, EtcdBackendOptions } from './registry/backends/etcd.js';
export type { BackendFromEnvOptions } from './registry/backends/from-env.js';
export { backendFromEnv } from './registry/backends/from-env.js';
export type { MemoryBackendOptions } from './registry/backends/memory.js';
export { MEMORY_BACKEND_DEFAULTS, MemoryBackend } from './registry/backends/memory.js';
export type { RedisBackend, RedisBackendOptions } from './registry/backends/redis.js';
export type { CreateRegistryOptions } from './registry/create-registry.js';
export { createRegistry } from './registry/create-registry.js';
export type { DefaultRegistryLease } from './registry/default-registry.js';
export { closeDefaultRegistry, defaultRegistry } from './registry/default-registry.js';
export type { RegistryMiddleware, RegistryRouterOptions } from './registry/http/registry-router.js';
export { REGISTRY_ROUTER_DEFAULTS, registry } from './registry/http/registry-router.js';
export type { RegistrationRateLimit } from './registry/http/registry-router-options.js';
export type {
  InstanceStatus,
  LeaseOptions,
  RegistrationInput,
  RegistryBackend,
  RegistryEvent,
  RegistryWatcher,
  RouteSpec,
  ServiceInstance,
} from './registry/model.js';
export { INSTANCE_STATUSES } from './registry/model.js';
export type { RegistryOptions } from './registry/registry.js';
export { REGISTRY_DEFAULTS, Registry } from './registry/registry.js';
export type {
  RegistryApi,
  RegistryChange,
  RegistryEventMap,
  RegistryHealth,
  SelfPreservationState,
  StoreCondition,
  StoreState,
} from './registry/registry-api.js';
export type { BalancerName } from './routing/balancers/index.js';
export {
  BALANCER_NAMES,
  createBalancer,
  LeastConnectionsBalancer,
  RoundRobinBalancer,
  StickyBalancer,
  WeightedBalancer,
} from './routing/balancers/index.js';
export type { ExplainOptions, ExplainResult } from './routing/explain.js';
export { explain } from './routing/explain.js';
export type { RouteSource } from './routing/request-resolution.js';
export type { RouteTableOptions } from './routing/route-table.js';
export { ROUTE_TABLE_DEFAULTS, RouteTable } from './routing/route-table.js';
export type {
  Balancer,
  ExclusionReason,
  InstanceHealthSignals,
  PickContext,
  RouteMatch,
  Selection,
  StaticRoute,
} from './routing/types.js';
export type { CorsOptions } from './security/cors.js';
export { CORS_DEFAULTS, cors } from './security/cors.js';
export type { CorsOrigin, CorsPolicy } from './security/cors-policy.js';
export type { HstsOptions, SecurityHeadersOptions } from './security/security-headers.js';
export { SECURITY_HEADERS_DEFAULTS, securityHeaders } from './security/security-headers.js';
export type { AccessLog, AccessLogOptions, AccessLogRecord, AccessLogSink } from './telemetry/access-log.js';
export { createAccessLog } from './telemetry/access-log.js';
export type { FleetgateMetrics, MetricsOptions } from './telemetry/metrics.js';
export { createMetrics, METRICS_DEFAULTS } from './telemetry/metrics.js';
export type { TracingHandle, TracingOptions } from './telemetry/tracing.js';
export { startTracing } from './telemetry/tracing.js';
export type { Pem, UpstreamTlsOptions } from './upstream/upstream-tls.js';
export { packageVersion } from './version.js';
export type {
  DefaultRegistryWebSocketGateway,
  UpgradeServer,
  WebSocketGateway,
  WebSocketGatewayStats,
} from './websocket/websocket-gateway.js';
export { websocketGateway } from './websocket/websocket-gateway.js';
export type {
  MessageDirection,
  WebSocketLiveCounts,
  WebSocketMetricsSink,
} from './websocket/websocket-metrics-sink.js';
export type { WebSocketBalancerName, WebSocketGatewayOptions } from './websocket/websocket-options.js';
export { WEBSOCKET_GATEWAY_DEFAULTS } from './websocket/websocket-options.js';
