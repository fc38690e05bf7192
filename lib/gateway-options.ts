/**
 * What `createGateway()` (lib/gateway.ts) takes: its options, their defaults, and the options of
 * its drain (`close()`).
 */
import { type Clock, realClock } from './clock.js';
import type { ConsulApiOptions } from './compat/consul/consul-api.js';
import type { EurekaApiOptions } from './compat/eureka/eureka-api.js';
import type { HealthCheckerOptions } from './health/health-check-options.js';
import type { AdminAccessOptions } from './http/admin-access.js';
import type { Middleware } from './http/compose.js';
import type { ServerLimits } from './http/server-limits.js';
import { type Logger, noopLogger } from './logger.js';
import type { DiscoveryProxyOptions, ProxyWebSocketOptions } from './proxy/proxy-options.js';
import type { RegistryRouterOptions } from './registry/http/registry-router.js';
import type { RegistryApi } from './registry/registry-api.js';

/** Options for {@link createGateway}. */
export interface GatewayOptions {
  /** The registry to serve. When absent one is created from `env` and closed with the gateway. */
  registry: RegistryApi | undefined;
  /** Environment read for `REGISTRY_*`, `PORT`/`ERUGATEWAYPORT` and `HOST`. @default process.env */
  env: Record<string, string | undefined>;
  /** @default noopLogger */
  logger: Logger;
  /** Time source for the registration rate limit and shutdown grace. @default realClock */
  clock: Clock;
  /** Options for the registration API; `allowFrom` and `token` default to `REGISTRY_ALLOW_FROM`/`REGISTRY_TOKEN`. @default {} */
  registryApi: Partial<Omit<RegistryRouterOptions, 'registry'>>;
  /** Active health checks (`HEALTH_*` from `env` unless overridden here); `false` turns them off. @default {} */
  healthChecks: Partial<HealthCheckerOptions> | false;
  /** Discovery proxy options (registry, clock and logger are the gateway's); `false` turns it off. @default {} */
  proxy: Partial<Omit<DiscoveryProxyOptions, 'registry'>> | false;
  /** WebSocket upgrade proxying and message routing (`/ws`), served by the proxy; `false` turns it off. @default {} */
  websocket: ProxyWebSocketOptions | false;
  /** Serve Prometheus metrics at `GET /metrics`. @default true */
  metrics: boolean;
  /** Serve the live dashboard at `/_fleetgate/` to operators (docs/dashboard.md). @default true */
  dashboard: boolean;
  /** Middlewares run after the gateway's own endpoints and before the proxy (e.g. `rateLimit()`). @default [] */
  middlewares: readonly Middleware[];
  /**
   * Who is an operator (`/metrics`, `/_fleetgate/**`, `GET /internal/services`, the full `/health`);
   * `allowFrom` and `token` default to `ADMIN_ALLOW_FROM`/`ADMIN_TOKEN`. @default {}
   */
  admin: Partial<AdminAccessOptions>;
  /** The Eureka REST API (`/eureka/apps/`, `/eureka/v2/apps/`) behind the registration API's guards; `false` turns it off. @default {} */
  eureka: Partial<Omit<EurekaApiOptions, 'registry'>> | false;
  /** The Consul agent/catalog/health API subset (`/v1/…`) behind the registration API's guards; `false` turns it off. @default {} */
  consul: Partial<Omit<ConsulApiOptions, 'registry'>> | false;
  /**
   * Server limits: headers and whole-request timeouts, keep-alive idle time, header size, connection
   * cap (lib/http/server-limits.ts); each defaults to its `SERVER_*` variable. @default {}
   */
  server: Partial<ServerLimits>;
}

/** Defaults for {@link GatewayOptions}. Frozen. */
export const GATEWAY_DEFAULTS: Readonly<Omit<GatewayOptions, 'env'>> = Object.freeze({
  registry: undefined,
  logger: noopLogger,
  clock: realClock,
  registryApi: Object.freeze({}),
  eureka: Object.freeze({}),
  consul: Object.freeze({}),
  healthChecks: Object.freeze({}),
  proxy: Object.freeze({}),
  websocket: Object.freeze({}),
  metrics: true,
  dashboard: true,
  middlewares: Object.freeze([]) as readonly Middleware[],
  admin: Object.freeze({}),
  server: Object.freeze({}),
});

/** Options for {@link Gateway.close}. */
export interface GatewayCloseOptions {
  /**
   * How long `/readyz` fails (and responses say `Connection: close`) before the listener closes, so
   * load balancers stop sending new connections first (`SHUTDOWN_DELAY` in the bin). @default 0
   */
  delayMs?: number;
  /** How long in-flight requests may take to finish before their connections are cut (`SHUTDOWN_GRACE`). @default 0 */
  graceMs?: number;
}
