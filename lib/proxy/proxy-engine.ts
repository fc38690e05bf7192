/**
 * The discovery proxy's state and request path: normalise → match → choose an instance →
 * forward. Owns the route table, the upstream pools, the passive health signals (outlier
 * ejection, circuit breakers) and the retry budget; follows the registry to close pools of
 * instances that left (registry-follower.ts) and reports each request (request-reporter.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../clock.js';
import { isSafeRequestId, newRequestId } from '../core/request-ids.js';
import { routingChannel } from '../diagnostics.js';
import { FleetgateError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ServiceInstance } from '../registry/model.js';
import type { RegistryApi } from '../registry/registry-api.js';
import { createBalancer } from '../routing/balancers/index.js';
import { type ExplainResult, explain } from '../routing/explain.js';
import { resolveIncoming } from '../routing/request-resolution.js';
import { RouteTable } from '../routing/route-table.js';
import type { Balancer, InstanceHealthSignals, RouteMatch } from '../routing/types.js';
import type { ProxySpan } from '../telemetry/tracing.js';
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
import { CircuitBreakers } from './circuit-breakers.js';
import type { AttemptTarget, ExchangeHost, ExchangeState } from './exchange-host.js';
import { ProxyExchange } from './forward-request.js';
import { HeaderDeadlines } from './header-deadlines.js';
import { InstanceChooser } from './instance-chooser.js';
import type { ResolvedProxyOptions, StickyOptions } from './proxy-options.js';
import { RegistryFollower } from './registry-follower.js';
import { RequestReporter } from './request-reporter.js';
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
  readonly #reporter: RequestReporter;
  readonly #follower: RegistryFollower;
  readonly #refusedMethods: ReadonlySet<string>;
  readonly #panicThreshold: number;
  readonly #chooser: InstanceChooser;
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
    this.#reporter = new RequestReporter(opts);
    this.#panicThreshold = opts.panicThreshold;
    this.#chooser = new InstanceChooser(this.balancer, this.signals, opts.panicThreshold);
    this.#follower = new RegistryFollower(registry, {
      pools: this.pools,
      outliers,
      breakers,
      staticTargets: new Set(opts.staticRoutes.flatMap((r) => (r.target === undefined ? [] : [r.target]))),
    });
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
      this.#reporter.refuse(res, badPathError(resolved.reason), clientRequestId(req), undefined);
      return;
    }
    if (resolved.kind !== 'route') {
      // A reserved gateway path is never forwarded: whatever did not answer it, no service will.
      if (next !== undefined && this.#onNoMatch !== '404') next();
      else this.#reporter.refuse(res, noRouteError(method, resolved.path), clientRequestId(req), undefined);
      return;
    }
    const { match } = resolved;
    if (this.#refusedMethods.has(method)) {
      this.#reporter.refuse(res, methodRefusedError(method), clientRequestId(req), match);
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
      this.#reporter.refuse(res, exchange.refusal, exchange.requestId, match);
      return;
    }
    let instance: ServiceInstance | undefined;
    let url: string;
    if (match.service === undefined) {
      url = match.target!;
    } else {
      const selection = this.#chooser.choose(match.service, this.table.instancesFor(match), exchange.stickyKey);
      instance = selection.instance;
      if (selection.panic) this.#reporter.panicRouted(match.service);
      if (routingChannel.hasSubscribers) {
        routingChannel.publish({ type: 'route', method, path: resolved.path, pattern: match.pattern, ...selection });
      }
      if (instance === undefined) {
        this.#reporter.refuse(res, noHealthyInstanceError(match.service), exchange.requestId, match);
        return;
      }
      url = instance.url;
    }
    this.budget.recordRequest();
    exchange.start(instance, this.pools.get(url));
  }

  pickRetry(exchange: ExchangeState): AttemptTarget | undefined {
    const match: RouteMatch = exchange.match;
    if (match.service === undefined) return undefined;
    const tried = exchange.tried ?? [];
    const rest = this.table.instancesFor(match).filter((i) => !tried.includes(i.instanceId));
    if (rest.length === 0) return undefined;
    const instance = this.#chooser.choose(match.service, rest, exchange.stickyKey).instance;
    return instance === undefined ? undefined : { instance, upstream: this.pools.get(instance.url) };
  }

  attemptStarted(exchange: ExchangeState): void {
    const inst = exchange.instance;
    if (inst === undefined) return;
    if (exchange.retries > 0) exchange.span?.setInstance(inst.instanceId);
    this.breakers.begin(inst.service, inst.instanceId);
    this.#chooser.attemptStarted(inst.instanceId);
  }

  attemptOutcome(exchange: ExchangeState, status: number, failure: UpstreamFailureKind | undefined): void {
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

  startSpan(exchange: ExchangeState): ProxySpan | undefined {
    return this.#reporter.startSpan(exchange);
  }

  requestEnded(exchange: ExchangeState, status: number): void {
    this.#reporter.requestEnded(exchange, status);
  }

  retrying(exchange: ExchangeState, kind: UpstreamFailureKind): void {
    this.#reporter.retrying(exchange, kind);
  }

  attemptEnded(exchange: ExchangeState): void {
    const inst = exchange.instance;
    if (inst !== undefined) this.#chooser.attemptEnded(inst.instanceId);
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
      this.#follower.close();
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
