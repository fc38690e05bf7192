/**
 * The discovery proxy's state and request path: normalise → match → choose an instance →
 * forward. Owns the route table, the upstream pools, the passive health signals (outlier
 * ejection, circuit breakers) and the retry budget, and follows the registry to close pools of
 * instances that left.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../clock.js';
import { isSafeRequestId, newRequestId } from '../core/request-ids.js';
import { routingChannel } from '../diagnostics.js';
import { FleetgateError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ServiceInstance } from '../registry/model.js';
import type { RegistryApi, RegistryChange } from '../registry/registry-api.js';
import { createBalancer } from '../routing/balancers/index.js';
import { type ExplainResult, explain } from '../routing/explain.js';
import { type SelectOptions, selectInstance } from '../routing/instance-selector.js';
import { resolveIncoming } from '../routing/request-resolution.js';
import { RouteTable } from '../routing/route-table.js';
import type { Balancer, InstanceHealthSignals, PickContext, RouteMatch } from '../routing/types.js';
import { type AccessLog, traceIdOf } from '../telemetry/access-log.js';
import { type ProxySpan, startProxySpan } from '../telemetry/tracing.js';

/** What an unsampled, no-op span reports as its trace id. */
const INVALID_TRACE_ID = '00000000000000000000000000000000';

import { OutlierDetector } from '../upstream/outlier-detector.js';
import { type UpstreamHeaderOptions, upstreamHeaderOptions, viaEntry } from '../upstream/proxy-headers.js';
import {
  badPathError,
  isConnectFailure,
  noHealthyInstanceError,
  noRouteError,
  proxyClosedError,
  sendProxyError,
  type UpstreamFailureKind,
} from '../upstream/upstream-error.js';
import { loopKindOf } from '../upstream/via.js';
import { CircuitBreakers } from './circuit-breakers.js';
import { type AttemptTarget, type ExchangeHost, ProxyExchange } from './forward-request.js';
import { HeaderDeadlines } from './header-deadlines.js';
import type { RetryReason } from './proxy-metrics-sink.js';
import type { ProxyMetricsSink, ResolvedProxyOptions, StickyOptions } from './proxy-options.js';
import { RetryBudget } from './retry-policy.js';
import { settleShapes } from './settle-shape.js';
import { stickyKeyOf } from './sticky-key.js';
import { UpstreamPools } from './upstream-pools.js';

/** A `next` callback of Express/Connect. */
export type NextFunction = (err?: unknown) => void;

/**
 * The proxy's state. One per `discoveryProxy()`.
 * @example
 * const engine = new ProxyEngine(registry, resolveProxyOptions({}), false);
 * http.createServer((req, res) => engine.handle(req, res));
 */
export class ProxyEngine implements ExchangeHost, AsyncDisposable {
  readonly registry: RegistryApi;
  readonly table: RouteTable;
  readonly pools: UpstreamPools;
  readonly outliers: OutlierDetector;
  readonly breakers: CircuitBreakers;
  readonly budget: RetryBudget;
  readonly deadlines: HeaderDeadlines;
  readonly balancer: Balancer;
  readonly signals: InstanceHealthSignals;
  readonly headerOptions: UpstreamHeaderOptions;
  readonly responseVia: string;
  readonly maxRetries: number;
  readonly bufferLimitBytes: number;
  readonly logger: Logger;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #onNoMatch: 'next' | '404' | undefined;
  readonly #sticky: StickyOptions | undefined;
  readonly #ownsRegistry: boolean;
  readonly #metrics: ProxyMetricsSink | undefined;
  readonly #tracing: boolean;
  readonly #accessLog: AccessLog | undefined;
  readonly #staticTargets: ReadonlySet<string>;
  readonly #refusedMethods: ReadonlySet<string>;
  readonly #panicThreshold: number;
  /** In-flight attempts per instance id, kept only for the least-connections balancer. */
  readonly #load: Map<string, number> | undefined;
  readonly #ctx: PickContext;
  /** Reused for every selection: selectInstance is synchronous, so one object serves all requests. */
  readonly #select: SelectOptions;
  readonly #onChange = (change: RegistryChange): void => this.#followRegistry(change);
  #closing: Promise<void> | undefined;

  constructor(registry: RegistryApi, opts: ResolvedProxyOptions, ownsRegistry: boolean) {
    this.registry = registry;
    this.#clock = opts.clock;
    this.logger = opts.logger;
    this.#ownsRegistry = ownsRegistry;
    this.table = new RouteTable({
      registry,
      staticRoutes: opts.staticRoutes,
      nameRouting: opts.nameRouting,
      gatewayName: opts.gatewayName,
    });
    this.pools = new UpstreamPools({
      connectTimeoutMs: opts.connectTimeoutMs,
      keepAliveTimeoutMs: opts.keepAliveTimeoutMs,
      clock: opts.clock,
      tls: opts.tlsConnect,
    });
    this.outliers = new OutlierDetector({ ...opts.outlier, clock: opts.clock, logger: opts.logger });
    this.breakers = new CircuitBreakers({ ...opts.breaker, logger: opts.logger, observer: opts.metrics });
    this.budget = new RetryBudget({ ...opts.retries, clock: opts.clock });
    this.deadlines = new HeaderDeadlines(opts.clock);
    this.balancer = createBalancer(opts.balancer, opts.versionWeights);
    const { outliers, breakers } = this;
    this.signals = {
      isEjected: (service, id) => outliers.isEjected(service, id),
      isCircuitOpen: (service, id) => breakers.isOpen(service, id),
    };
    this.headerOptions = upstreamHeaderOptions({
      preserveHost: opts.preserveHost,
      trustProxy: opts.trustProxy,
      gatewayId: opts.gatewayId,
      maxHops: opts.maxHops,
    });
    this.responseVia = viaEntry('1.1', opts.gatewayId);
    this.#refusedMethods = new Set(opts.refuseMethods.map((m) => m.toUpperCase()));
    this.maxRetries = opts.retries.attempts;
    this.bufferLimitBytes = opts.retries.bufferLimitBytes;
    this.#timeoutMs = opts.timeoutMs;
    this.#onNoMatch = opts.onNoMatch;
    this.#sticky = opts.sticky;
    this.#metrics = opts.metrics;
    this.#tracing = opts.tracing;
    this.#accessLog = opts.accessLog;
    this.#staticTargets = new Set(opts.staticRoutes.flatMap((r) => (r.target === undefined ? [] : [r.target])));
    const load = this.balancer.name === 'least-connections' ? new Map<string, number>() : undefined;
    this.#load = load;
    this.#ctx = load === undefined ? {} : { load: (id) => load.get(id) ?? 0 };
    this.#panicThreshold = opts.panicThreshold;
    this.#select = {
      balancer: this.balancer,
      ctx: this.#ctx,
      signals: this.signals,
      service: '',
      panicThreshold: opts.panicThreshold,
    };
    registry.on('change', this.#onChange);
  }

  /** Routes and forwards one request. */
  handle(req: IncomingMessage, res: ServerResponse, next?: NextFunction): void {
    const startedAt = performance.now();
    if (this.#closing !== undefined) {
      sendProxyError(res, proxyClosedError());
      return;
    }
    const method = req.method ?? 'GET';
    // Shared with the middlewares before it (apiKeys() judged this very route's permission).
    const resolved = resolveIncoming(this.table, req, method);
    if (resolved.kind === 'bad-path') {
      this.#refuse(res, badPathError(resolved.reason), clientRequestId(req), undefined);
      return;
    }
    if (resolved.kind !== 'route') {
      // A reserved gateway path is never forwarded: whatever did not answer it, no service will.
      if (next !== undefined && this.#onNoMatch !== '404') next();
      else this.#refuse(res, noRouteError(method, resolved.path), clientRequestId(req), undefined);
      return;
    }
    const { match } = resolved;
    if (this.#refusedMethods.has(method)) {
      this.#refuse(res, methodRefusedError(method), clientRequestId(req), match);
      return;
    }
    settleShapes(req, res);
    const sticky = this.#sticky;
    const exchange = new ProxyExchange(
      this,
      req,
      res,
      match,
      match.route.timeoutMs ?? this.#timeoutMs,
      startedAt,
      sticky === undefined || match.service === undefined ? undefined : stickyKeyOf(req, sticky),
    );
    if (exchange.refusal !== undefined) {
      this.#refuse(res, exchange.refusal, exchange.requestId, match);
      return;
    }
    let instance: ServiceInstance | undefined;
    let url: string;
    if (match.service === undefined) {
      url = match.target!;
    } else {
      const selection = this.#choose(match.service, this.table.instancesFor(match), exchange.stickyKey);
      instance = selection.instance;
      if (selection.panic) this.#metrics?.recordPanicRouting?.(match.service);
      if (routingChannel.hasSubscribers) {
        routingChannel.publish({ type: 'route', method, path: resolved.path, pattern: match.pattern, ...selection });
      }
      if (instance === undefined) {
        this.#refuse(res, noHealthyInstanceError(match.service), exchange.requestId, match);
        return;
      }
      url = instance.url;
    }
    this.budget.recordRequest();
    exchange.start(instance, this.pools.get(url));
  }

  /** Answers an error before anything was forwarded. */
  #refuse(res: ServerResponse, error: FleetgateError, requestId: string, match: RouteMatch | undefined): void {
    sendProxyError(res, error, requestId);
    const loop = loopKindOf(error);
    if (loop !== undefined) this.#metrics?.recordLoopDetected?.(loop);
    this.#metrics?.recordProxyRequest({
      service: match?.service ?? '-',
      route: match?.pattern ?? '-',
      status: error.status,
    });
  }

  /**
   * One balancer decision. The shared select/ctx objects are filled right before the synchronous
   * pick, so nothing of one request (its sticky key) is left for another request's retry to read.
   */
  #choose(service: string, candidates: readonly ServiceInstance[], stickyKey: string | undefined) {
    const select = this.#select;
    select.service = service;
    this.#ctx.stickyKey = stickyKey;
    return selectInstance(candidates, select);
  }

  pickRetry(exchange: ProxyExchange): AttemptTarget | undefined {
    const match: RouteMatch = exchange.match;
    if (match.service === undefined) return undefined;
    const tried = exchange.tried ?? [];
    const rest = this.table.instancesFor(match).filter((i) => !tried.includes(i.instanceId));
    if (rest.length === 0) return undefined;
    const instance = this.#choose(match.service, rest, exchange.stickyKey).instance;
    return instance === undefined ? undefined : { instance, upstream: this.pools.get(instance.url) };
  }

  attemptStarted(exchange: ProxyExchange): void {
    const inst = exchange.instance;
    if (inst === undefined) return;
    if (exchange.retries > 0) exchange.span?.setInstance(inst.instanceId);
    this.breakers.begin(inst.service, inst.instanceId);
    const load = this.#load;
    if (load !== undefined) load.set(inst.instanceId, (load.get(inst.instanceId) ?? 0) + 1);
  }

  attemptOutcome(exchange: ProxyExchange, status: number, failure: UpstreamFailureKind | undefined): void {
    const inst = exchange.instance;
    if (inst === undefined) return;
    if (failure === 'aborted' || failure === 'client') {
      // Not the instance's fault; a trial cut short must not leave the circuit half-open forever.
      this.breakers.abandon(inst.service, inst.instanceId);
    } else if (failure !== undefined || status >= 500) {
      this.outliers.recordFailure(inst.service, inst.instanceId, failure !== undefined && isConnectFailure(failure));
      this.breakers.recordFailure(inst.service, inst.instanceId);
    } else {
      this.outliers.recordSuccess(inst.service, inst.instanceId);
      this.breakers.recordSuccess(inst.service, inst.instanceId);
    }
  }

  #logAccess(exchange: ProxyExchange, status: number, log: AccessLog): void {
    const now = performance.now();
    const spanTrace = exchange.span?.span.spanContext().traceId;
    log({
      method: exchange.method,
      route: exchange.match.pattern,
      service: exchange.match.service ?? '-',
      instance_id: exchange.instance?.instanceId,
      status,
      duration_ms: Math.round((now - exchange.startedAt) * 100) / 100,
      upstream_ms:
        exchange.headersAt === undefined
          ? undefined
          : Math.round((exchange.headersAt - exchange.startedAt) * 100) / 100,
      retries: exchange.retries,
      request_id: exchange.requestId,
      trace_id:
        spanTrace !== undefined && spanTrace !== INVALID_TRACE_ID
          ? spanTrace
          : traceIdOf(exchange.req.headers.traceparent),
    });
  }

  startSpan(exchange: ProxyExchange): ProxySpan | undefined {
    if (!this.#tracing) return undefined;
    return startProxySpan({
      method: exchange.method,
      route: exchange.match.pattern,
      service: exchange.match.service,
      instanceId: exchange.instance?.instanceId,
      incomingHeaders: exchange.req.headers,
    });
  }

  requestEnded(exchange: ProxyExchange, status: number): void {
    exchange.span?.end({ statusCode: status, retries: exchange.retries });
    if (this.#accessLog !== undefined) this.#logAccess(exchange, status, this.#accessLog);
    const metrics = this.#metrics;
    if (metrics === undefined) return;
    const match = exchange.match;
    metrics.recordProxyRequest({
      service: match.service ?? '-',
      route: match.pattern,
      status,
      durationMs: performance.now() - exchange.startedAt,
      ...(exchange.instance === undefined ? {} : { instanceId: exchange.instance.instanceId }),
    });
  }

  retrying(exchange: ProxyExchange, kind: UpstreamFailureKind): void {
    const service = exchange.match.service;
    // mayRetry lets only failures before any response byte through: connect, connect-timeout, timeout, reset.
    if (service !== undefined) this.#metrics?.recordRetry?.(service, kind as RetryReason);
  }

  attemptEnded(exchange: ProxyExchange): void {
    const load = this.#load;
    const inst = exchange.instance;
    if (load === undefined || inst === undefined) return;
    const n = load.get(inst.instanceId) ?? 0;
    if (n <= 1) load.delete(inst.instanceId);
    else load.set(inst.instanceId, n - 1);
  }

  /** How a request would be routed, without moving the live balancer. */
  explain(method: string, path: string): ExplainResult {
    return explain(this.table, this.registry, method, path, {
      balancer: this.balancer.name,
      signals: this.signals,
      now: this.#clock.now(),
      panicThreshold: this.#panicThreshold,
    });
  }

  /** Closes pools (in-flight requests get a grace period), the route table and, when owned, the registry. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.registry.off('change', this.#onChange);
      this.deadlines.close();
      await this.table.close();
      await this.pools.close();
      if (this.#ownsRegistry) await this.registry.close();
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #followRegistry(change: RegistryChange): void {
    if (change.type === 'resync') {
      this.#reconcilePools();
      return;
    }
    const before = change.previous;
    if (change.type === 'deregister' || change.type === 'expire') {
      if (change.service !== undefined && change.instanceId !== undefined) {
        this.outliers.forget(change.service, change.instanceId);
        this.breakers.forget(change.service, change.instanceId);
      }
      if (before === undefined) this.#reconcilePools();
      else this.#releaseIfUnused(before.url);
    } else if (change.type === 'register' && before !== undefined && change.instance !== undefined) {
      // A re-registration is a restarted (or re-homed) instance: yesterday's failures are not its own.
      this.outliers.forget(before.service, before.instanceId);
      this.breakers.forget(before.service, before.instanceId);
      if (before.url !== change.instance.url) this.#releaseIfUnused(before.url);
    }
  }

  #releaseIfUnused(url: string): void {
    if (this.#staticTargets.has(url) || !this.pools.has(url)) return;
    for (const inst of this.registry.instances()) if (inst.url === url) return;
    this.pools.release(url);
  }

  #reconcilePools(): void {
    const live = new Set(this.registry.instances().map((i) => i.url));
    for (const url of this.pools.urls()) {
      if (!live.has(url) && !this.#staticTargets.has(url)) this.pools.release(url);
    }
  }
}

/** The request id echoed on errors answered before the headers are read: the client's when safe, else a new one. */
function clientRequestId(req: IncomingMessage): string {
  const v = req.headers['x-request-id'];
  return typeof v === 'string' && isSafeRequestId(v) ? v : newRequestId();
}

/** 405: a method refused at the edge (`refuseMethods`). */
function methodRefusedError(method: string): FleetgateError {
  return new FleetgateError('ERR_FG_METHOD_NOT_ALLOWED', `${method} is not forwarded by this gateway`);
}
