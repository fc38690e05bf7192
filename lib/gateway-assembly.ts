/**
 * The parts of a standalone gateway (lib/gateway.ts) and their order: probes, the operator guard,
 * `/metrics`, the registration API, Eureka and Consul, `/health`, the dashboard,
 * `/_fleetgate/explain`, the caller's middlewares, then the discovery proxy; built from the parsed
 * environment and the gateway's options, closed in reverse.
 */
import type { Clock } from './clock.js';
import { consulApi } from './compat/consul/consul-api.js';
import { eurekaApi } from './compat/eureka/eureka-api.js';
import type { parseEnv } from './config/env.js';
import { ClientAddressResolver } from './core/client-address.js';
import { dropUndefined } from './core/options-merge.js';
import { createGatewayDashboard } from './dashboard/gateway-dashboard.js';
import { FleetgateError } from './errors.js';
import { type GatewayHealth, startGatewayHealth } from './gateway-health.js';
import { GATEWAY_DEFAULTS, type GatewayOptions } from './gateway-options.js';
import { healthAggregator } from './health/health-aggregator.js';
import { adminGuard, createAdminAccess } from './http/admin-access.js';
import type { Middleware } from './http/compose.js';
import { explainEndpoint } from './http/explain-endpoint.js';
import { probeEndpoints } from './http/probe-endpoints.js';
import type { Logger } from './logger.js';
import { type DiscoveryProxy, discoveryProxy } from './proxy/discovery-proxy.js';
import { registry as registryApi } from './registry/http/registry-router.js';
import type { ListenAddress } from './registry/http/self-target.js';
import type { RegistryApi } from './registry/registry-api.js';
import { createMetrics, type FleetgateMetrics } from './telemetry/metrics.js';
import { packageVersion } from './version.js';

/** What the gateway's own endpoints read of its lifecycle. */
export interface GatewayState {
  draining: boolean;
  /** The registry's local cache has been filled (registry.ready() resolved). */
  loaded: boolean;
}

export interface GatewayParts {
  middlewares: Middleware[];
  proxy: DiscoveryProxy | undefined;
  health: GatewayHealth | undefined;
  metrics: FleetgateMetrics | undefined;
  /** Closes everything but the WebSocket gateway (closed first, before connections are cut). */
  close(): Promise<void>;
}

/** Builds the handler chain and the stateful parts behind it; closes what it built if a later part fails. */
export async function assemble(
  registry: RegistryApi,
  env: ReturnType<typeof parseEnv>,
  options: Partial<GatewayOptions>,
  logger: Logger,
  clock: Clock,
  listenAddresses: () => ListenAddress[],
  state: GatewayState,
): Promise<GatewayParts> {
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const c of closers.reverse()) await c().catch((err: unknown) => logger.error('fleetgate: close failed', err));
  };
  try {
    const clients = new ClientAddressResolver(
      options.registryApi?.trustProxy ?? env.trustedProxies,
      options.registryApi?.trustProxy === undefined ? 'TRUSTED_PROXIES' : 'trustProxy',
    );
    const admin = createAdminAccess({
      allowFrom: env.adminAllowFrom,
      token: env.adminToken,
      clientAddress: (req) => clients.addressOf(req),
      logger,
      ...dropUndefined(options.admin ?? GATEWAY_DEFAULTS.admin),
    });
    // Metrics are created below (they follow the health checker); refusals reach them once they exist.
    let metricsSink: FleetgateMetrics | undefined;
    const api = registryApi({
      metrics: { recordLoopDetected: (kind) => metricsSink?.recordLoopDetected(kind) },
      allowFrom: env.allowFrom,
      token: env.registryToken,
      registrationRateLimit: env.registerLimit,
      trustProxy: env.trustedProxies,
      serviceKeys: env.serviceKeys,
      listenAddresses,
      clock,
      logger,
      ...dropUndefined(options.registryApi ?? GATEWAY_DEFAULTS.registryApi),
      registry,
    });
    closers.push(() => api.close());
    // The compatibility APIs guard their writes as the registration API does.
    const compatAccess = {
      allowFrom: env.allowFrom,
      token: env.registryToken,
      trustProxy: env.trustedProxies,
      clock,
      logger,
    };
    const eurekaOptions = options.eureka ?? GATEWAY_DEFAULTS.eureka;
    const eureka =
      eurekaOptions === false ? undefined : eurekaApi({ ...compatAccess, ...dropUndefined(eurekaOptions), registry });
    if (eureka !== undefined) closers.push(() => eureka.close());
    const consulOptions = options.consul ?? GATEWAY_DEFAULTS.consul;
    const consul =
      consulOptions === false ? undefined : consulApi({ ...compatAccess, ...dropUndefined(consulOptions), registry });
    if (consul !== undefined) closers.push(() => consul.close());
    const checks = options.healthChecks ?? GATEWAY_DEFAULTS.healthChecks;
    const health =
      checks === false ? undefined : await startGatewayHealth(env, registry, { logger, clock, overrides: checks });
    if (health !== undefined) closers.push(() => health.close());
    const metrics =
      (options.metrics ?? GATEWAY_DEFAULTS.metrics)
        ? createMetrics({ registry, ...(health === undefined ? {} : { checker: health.checker }) })
        : undefined;
    if (metrics !== undefined) closers.push(() => metrics.close());
    metricsSink = metrics;
    const dashboard =
      (options.dashboard ?? GATEWAY_DEFAULTS.dashboard)
        ? createGatewayDashboard({
            registry,
            admin,
            clock,
            gatewayName: env.gatewayName,
            draining: () => state.draining,
          })
        : undefined;
    if (dashboard !== undefined) closers.push(() => dashboard.close());
    const sink = dashboard === undefined ? metrics : dashboard.sink(metrics);
    const proxyOptions = options.proxy ?? GATEWAY_DEFAULTS.proxy;
    const proxy =
      proxyOptions === false
        ? undefined
        : discoveryProxy({
            panicThreshold: env.panicThreshold,
            trustProxy: env.trustedProxies,
            maxHops: env.maxHops,
            ...(env.gatewayName === undefined ? {} : { gatewayId: env.gatewayName, gatewayName: env.gatewayName }),
            ...dropUndefined(proxyOptions),
            registry,
            clock,
            logger,
            onNoMatch: '404',
            // The bin starts the OpenTelemetry SDK when TRACE_URL is set; spans are cheap no-ops otherwise.
            tracing: env.traceUrl !== undefined,
            ...(sink === undefined ? {} : { metrics: sink }),
            // The proxy's own WebSocket gateway shares its route table and outlier/breaker signals.
            websocket: options.websocket ?? GATEWAY_DEFAULTS.websocket,
          });
    if (proxy !== undefined) closers.push(() => proxy.close());
    const middlewares: Middleware[] = [
      probeEndpoints({
        loaded: () => state.loaded,
        storeConnected: () => registry.health().connected,
        draining: () => state.draining,
      }),
      adminGuard(admin, { registryPrefix: options.registryApi?.prefix ?? '/internal' }),
      ...(metrics === undefined ? [] : [metrics.handler()]),
      api,
      ...(eureka === undefined ? [] : [eureka]),
      ...(consul === undefined ? [] : [consul]),
      healthAggregator({
        registry,
        version: packageVersion(),
        fullReportFor: (req) => admin.isAdmin(req),
        panicThreshold: proxyOptions === false ? 0 : (proxyOptions.panicThreshold ?? env.panicThreshold),
        ...(health === undefined ? {} : { checker: health.checker }),
      }),
      ...(dashboard === undefined ? [] : [dashboard.middleware]),
      ...(proxy === undefined
        ? []
        : [
            explainEndpoint({
              explain: (m, p) => proxy.explain(m, p),
              // The proxy's WebSocket gateway exists once the server is attached (at start).
              explainMessage:
                options.websocket === false
                  ? undefined
                  : (p) => {
                      const ws = proxy.websocket;
                      if (ws === undefined)
                        throw new FleetgateError('ERR_FG_NOT_FOUND', 'WebSocket routing is not attached yet');
                      return ws.explainMessage(p);
                    },
            }),
          ]),
      ...(options.middlewares ?? GATEWAY_DEFAULTS.middlewares),
      ...(proxy === undefined ? [] : [proxy]),
    ];
    return { middlewares, proxy, health, metrics, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
