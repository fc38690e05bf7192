/**
 * Contracts between the route table, the balancers and the proxy. README "Routing and proxying"
 */
import type { RoutePredicates } from '../core/route-predicates.js';
import type { RouteSpec, ServiceInstance } from '../registry/model.js';

/** A route configured in the gateway itself; registrations can never override it. */
export interface StaticRoute {
  /** @default '*' */
  method?: string;
  path: string;
  /** Route to this registered service… */
  service?: string;
  /** …only to its instances of this version (e.g. `v2` for beta testers). @default every version */
  version?: string;
  /** …or to this fixed upstream URL. */
  target?: string;
  /** Upstream response timeout in ms for this route. */
  timeoutMs?: number;
  /** What a caller needs to use the route, enforced by `apiKeys()` (and `jwtAuth()` when asked), e.g. `comments:read`. */
  permission?: string;
  /** Which table the route belongs to: plain HTTP or WebSocket message routes. @default 'http' */
  protocol?: 'http' | 'ws';
  /** Host, header, query and claim conditions (docs/predicates.md). @default none */
  predicates?: RoutePredicates;
  /** The gateways (`GATEWAY_NAME`) that serve this route; others ignore it. @default every gateway */
  gateways?: string[];
  /**
   * A literal leading part of `path` removed before forwarding: `path: /shop/**` with
   * `stripPrefix: /shop` sends `/shop/items?x=1` upstream as `/items?x=1`. @default none
   */
  stripPrefix?: string;
}

/** The result of matching a request against the route table. */
export interface RouteMatch {
  /** The service that owns the route (absent for a static route with a fixed `target`). */
  service?: string;
  /** Fixed upstream of a static route. */
  target?: string;
  /** The matched route (for static routes, a RouteSpec view of it). */
  route: RouteSpec;
  /** The pattern as written, e.g. `/api/comments/:id`. */
  pattern: string;
  /** Values of `:name` segments. */
  params: Record<string, string>;
  /** The path (with query string) to send upstream: unchanged, or with the `/{service}` prefix stripped for name routing. */
  upstreamPath: string;
  /** Whether the match came from the `/{service}/...` fallback. */
  viaNameFallback: boolean;
  /** Whether the route is a static gateway route. */
  isStatic: boolean;
  /** A static route's instance version filter. */
  version?: string;
}

/** Why an instance was not chosen; shown by `/_fleetgate/explain`. */
export type ExclusionReason = 'expired' | 'down' | 'draining' | 'ejected' | 'circuit-open' | 'unknown-status';

/** The outcome of choosing an instance for a request. */
export interface Selection {
  /** The chosen instance, or undefined when none can take the request. */
  instance: ServiceInstance | undefined;
  /** Candidates that were left out, with the reason. */
  excluded: { instanceId: string; reason: ExclusionReason }[];
  /** True when fewer than half the instances were healthy and the balancer spread over all of them. */
  panic: boolean;
}

/** What a balancer may look at besides the candidates. */
export interface PickContext {
  /** Sticky key (cookie or header value), when the route is sticky. */
  stickyKey?: string;
  /** Live connection / in-flight request counts per instance id (least-connections). */
  load?: (instanceId: string) => number;
}

/** Chooses one instance among healthy candidates. One file per strategy under `balancers/`. */
export interface Balancer {
  readonly name: 'round-robin' | 'least-connections' | 'weighted' | 'sticky';
  pick(candidates: readonly ServiceInstance[], ctx: PickContext): ServiceInstance | undefined;
}

/** Live per-instance health signals from the proxy (outlier ejection, circuit breakers). */
export interface InstanceHealthSignals {
  /** Whether passive detection has ejected this instance right now. */
  isEjected(service: string, instanceId: string): boolean;
  /** Optional: whether the instance's circuit breaker is open right now (excluded even in panic mode). */
  isCircuitOpen?(service: string, instanceId: string): boolean;
}
