/**
 * What the proxy reports of each request: its trace span, its access-log line and its metrics
 * (requests, retries, panic routing, loops). One object per proxy, so the request path asks one
 * place and pays nothing for what is off.
 */
import type { ServerResponse } from 'node:http';
import type { FleetgateError } from '../errors.js';
import type { RouteMatch } from '../routing/types.js';
import { type AccessLog, traceIdOf } from '../telemetry/access-log.js';
import { type ProxySpan, startProxySpan } from '../telemetry/tracing.js';
import { sendProxyError, type UpstreamFailureKind } from '../upstream/upstream-error.js';
import { loopKindOf } from '../upstream/via.js';
import type { ExchangeState } from './exchange-host.js';
import type { RetryReason } from './proxy-metrics-sink.js';
import type { ProxyMetricsSink, ResolvedProxyOptions } from './proxy-options.js';

/** What an unsampled, no-op span reports as its trace id. */
const INVALID_TRACE_ID = '00000000000000000000000000000000';

/**
 * The proxy's reporting, built from its resolved options (`metrics`, `tracing`, `accessLog`).
 * @example
 * const reporter = new RequestReporter(resolveProxyOptions({ metrics: createMetrics() }));
 * reporter.requestEnded(exchange, 200);
 */
export class RequestReporter {
  readonly #metrics: ProxyMetricsSink | undefined;
  readonly #tracing: boolean;
  readonly #accessLog: AccessLog | undefined;

  constructor(opts: Pick<ResolvedProxyOptions, 'metrics' | 'tracing' | 'accessLog'>) {
    this.#metrics = opts.metrics;
    this.#tracing = opts.tracing;
    this.#accessLog = opts.accessLog;
  }

  /** Answers an error before anything was forwarded, and counts it (and a loop, when it is one). */
  refuse(res: ServerResponse, error: FleetgateError, requestId: string, match: RouteMatch | undefined): void {
    sendProxyError(res, error, requestId);
    const loop = loopKindOf(error);
    if (loop !== undefined) this.#metrics?.recordLoopDetected?.(loop);
    this.#metrics?.recordProxyRequest({
      service: match?.service ?? '-',
      route: match?.pattern ?? '-',
      status: error.status,
    });
  }

  /** A request was routed in panic mode (opt-in `panicThreshold`). */
  panicRouted(service: string): void {
    this.#metrics?.recordPanicRouting?.(service);
  }

  /** Starts the request's span when tracing is on. */
  startSpan(exchange: ExchangeState): ProxySpan | undefined {
    if (!this.#tracing) return undefined;
    return startProxySpan({
      method: exchange.method,
      route: exchange.match.pattern,
      service: exchange.match.service,
      instanceId: exchange.instance?.instanceId,
      incomingHeaders: exchange.req.headers,
    });
  }

  /** The request goes to another instance after an attempt failed with `kind`. */
  retrying(exchange: ExchangeState, kind: UpstreamFailureKind): void {
    const service = exchange.match.service;
    // mayRetry lets only failures before any response byte through: connect, connect-timeout, timeout, reset.
    if (service !== undefined) this.#metrics?.recordRetry?.(service, kind as RetryReason);
  }

  /** The request is over; `status` is what the client got: ends the span, logs, counts. */
  requestEnded(exchange: ExchangeState, status: number): void {
    exchange.span?.end({ statusCode: status, retries: exchange.retries });
    if (this.#accessLog !== undefined) logAccess(exchange, status, this.#accessLog);
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
}

/** One access-log line: the span's trace id when sampled, else the client's `traceparent`'s. */
function logAccess(exchange: ExchangeState, status: number, log: AccessLog): void {
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
      exchange.headersAt === undefined ? undefined : Math.round((exchange.headersAt - exchange.startedAt) * 100) / 100,
    retries: exchange.retries,
    request_id: exchange.requestId,
    trace_id:
      spanTrace !== undefined && spanTrace !== INVALID_TRACE_ID
        ? spanTrace
        : traceIdOf(exchange.req.headers.traceparent),
  });
}
