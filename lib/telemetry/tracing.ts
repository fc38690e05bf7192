/**
 * OpenTelemetry tracing. `startTracing()` loads the Node SDK and an OTLP/HTTP trace exporter only
 * when called (TRACE_URL set), so a gateway without tracing never pays for them. The span helpers
 * use `@opentelemetry/api` alone, which is a no-op until an SDK registers. DESIGN.md §5.
 */
import { type Context, context, propagation, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import { dropUndefined } from '../core/options-merge.js';
import { FleetgateError } from '../errors.js';

/** Options of {@link startTracing}. */
export interface TracingOptions {
  /** OTLP/HTTP endpoint: a base URL (`http://collector:4318`, `/v1/traces` is appended) or the full traces URL. */
  url: string;
  /** `service.name` of the spans. @default 'fleetgate' */
  serviceName: string;
  /** OTLP encoding. @default 'http/protobuf' */
  protocol: 'http/protobuf' | 'http/json';
  /** Extra headers for the collector (e.g. an API key). @default {} */
  headers: Record<string, string>;
  /** `shutdown()` gives up flushing after this long, so SIGTERM exits promptly. @default 2000 */
  shutdownTimeoutMs: number;
  /**
   * Bound of one export including its retries. An export still running when `shutdown()` gives up
   * keeps its socket (and so the event loop) until then: exit explicitly after `shutdown()`. @default 5000
   */
  exportTimeoutMs: number;
}

/** Defaults of {@link TracingOptions}. Frozen. */
export const TRACING_DEFAULTS: Readonly<Omit<TracingOptions, 'url'>> = Object.freeze({
  serviceName: 'fleetgate',
  protocol: 'http/protobuf',
  headers: Object.freeze({}) as Record<string, string>,
  shutdownTimeoutMs: 2000,
  exportTimeoutMs: 5000,
});

/**
 * Resource detectors used unless `OTEL_NODE_RESOURCE_DETECTORS` says otherwise: local ones only
 * (cloud detectors call metadata endpoints over the network and stall start-up off-cloud).
 */
export const LOCAL_RESOURCE_DETECTORS = 'env,host,os,process';

/** A running tracing setup. */
export interface TracingHandle extends AsyncDisposable {
  /** The traces endpoint spans are sent to. */
  readonly url: string;
  /** Flushes and stops, bounded by `shutdownTimeoutMs`; unregisters the global tracer. Idempotent. */
  shutdown(): Promise<void>;
}

let active: TracingHandle | undefined;

/**
 * Starts exporting spans over OTLP/HTTP. No metric reader and no log exporter are installed (a
 * metric reader's interval keeps the process alive). Calling it again while running returns the
 * running handle.
 * @example
 * const tracing = env.traceUrl ? await startTracing({ url: env.traceUrl }) : undefined;
 * process.once('SIGTERM', () => void tracing?.shutdown());
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` for an invalid URL.
 */
export async function startTracing(options: Partial<TracingOptions> & { url: string }): Promise<TracingHandle> {
  if (active !== undefined) return active;
  const o: TracingOptions = { ...TRACING_DEFAULTS, ...dropUndefined(options), url: options.url };
  const url = tracesUrl(o.url);
  process.env.OTEL_NODE_RESOURCE_DETECTORS ??= LOCAL_RESOURCE_DETECTORS;
  const [{ NodeSDK }, { OTLPTraceExporter }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    o.protocol === 'http/json'
      ? import('@opentelemetry/exporter-trace-otlp-http')
      : import('@opentelemetry/exporter-trace-otlp-proto'),
  ]);
  const sdk: NodeSDK = new NodeSDK({
    serviceName: o.serviceName,
    traceExporter: new OTLPTraceExporter({ url, headers: { ...o.headers }, timeoutMillis: o.exportTimeoutMs }),
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, o.shutdownTimeoutMs);
        timer.unref();
      });
      await Promise.race([sdk.shutdown().catch(() => {}), timeout]);
      clearTimeout(timer);
      // Unregister the globals so spans become no-ops again (and a later startTracing can register).
      trace.disable();
      propagation.disable();
      context.disable();
      if (active === handle) active = undefined;
    })();
    return stopping;
  };
  const handle: TracingHandle = { url, shutdown, [Symbol.asyncDispose]: shutdown };
  active = handle;
  return handle;
}

/** `http://c:4318` → `http://c:4318/v1/traces`; a URL with a path is kept as given. */
export function tracesUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new FleetgateError('ERR_FG_INVALID_CONFIG', `TRACE_URL=${JSON.stringify(raw)} is not a URL`, {
      details: { variable: 'TRACE_URL', value: raw },
    });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new FleetgateError('ERR_FG_INVALID_CONFIG', `TRACE_URL must be an http(s) OTLP endpoint, got ${raw}`, {
      details: { variable: 'TRACE_URL', value: raw },
    });
  }
  if (u.pathname === '' || u.pathname === '/') u.pathname = '/v1/traces';
  return u.toString();
}

/** What a proxy span describes. */
export interface ProxySpanAttributes {
  /** Request method. */
  method: string;
  /** The matched route pattern. */
  route?: string | undefined;
  /** Target service. */
  service?: string | undefined;
  /** Chosen instance (may be set later with {@link ProxySpan.setInstance}). */
  instanceId?: string | undefined;
  /** Headers of the incoming request, to continue the caller's trace. */
  incomingHeaders?: Readonly<Record<string, string | string[] | undefined>> | undefined;
}

/** The outcome recorded by {@link ProxySpan.end}. */
export interface ProxySpanResult {
  statusCode?: number | undefined;
  retries?: number | undefined;
  error?: unknown;
}

/** One proxied request's span. Every method is cheap and safe when tracing is off. */
export interface ProxySpan {
  readonly span: Span;
  /** The context holding the span: upstream calls made inside it are its children. */
  readonly context: Context;
  setInstance(instanceId: string): void;
  setRetries(retries: number): void;
  /** Writes `traceparent` (and `tracestate`) for the upstream request into `headers`; returns them. */
  inject<H extends Record<string, unknown>>(headers: H): H;
  /** Records the status (5xx and errors mark the span failed) and ends it. Only the first call counts. */
  end(result?: ProxySpanResult): void;
}

const getter = {
  keys: (carrier: Readonly<Record<string, string | string[] | undefined>>) => Object.keys(carrier),
  get: (carrier: Readonly<Record<string, string | string[] | undefined>>, key: string) => carrier[key],
};

/**
 * Starts the span of one proxied request, as a child of the caller's trace when the incoming
 * headers carry one. Attributes: `fleetgate.service`, `fleetgate.instance`, `fleetgate.route`,
 * `fleetgate.retries`, `http.request.method`, `http.response.status_code`.
 * @example
 * const span = startProxySpan({ method: req.method, route: match.pattern, service, incomingHeaders: req.headers });
 * span.setInstance(instance.instanceId);
 * span.inject(upstreamHeaders);
 * // … forward …
 * span.end({ statusCode: res.statusCode, retries });
 */
export function startProxySpan(attrs: ProxySpanAttributes): ProxySpan {
  const parent =
    attrs.incomingHeaders === undefined
      ? context.active()
      : propagation.extract(context.active(), attrs.incomingHeaders, getter);
  const span = trace
    .getTracer('fleetgate')
    .startSpan(
      attrs.route === undefined ? attrs.method : `${attrs.method} ${attrs.route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': attrs.method } },
      parent,
    );
  if (span.isRecording()) {
    if (attrs.service !== undefined) span.setAttribute('fleetgate.service', attrs.service);
    if (attrs.route !== undefined) span.setAttribute('fleetgate.route', attrs.route);
    if (attrs.instanceId !== undefined) span.setAttribute('fleetgate.instance', attrs.instanceId);
  }
  const ctx = trace.setSpan(parent, span);
  let ended = false;
  return {
    span,
    context: ctx,
    setInstance: (id) => span.setAttribute('fleetgate.instance', id),
    setRetries: (n) => span.setAttribute('fleetgate.retries', n),
    inject: (headers) => injectTraceparent(headers, ctx),
    end(result = {}) {
      if (ended) return;
      ended = true;
      if (result.retries !== undefined) span.setAttribute('fleetgate.retries', result.retries);
      if (result.statusCode !== undefined) span.setAttribute('http.response.status_code', result.statusCode);
      if (result.error !== undefined) {
        span.recordException(result.error instanceof Error ? result.error : String(result.error));
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(result.error) });
      } else if (result.statusCode !== undefined && result.statusCode >= 500) {
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },
  };
}

/**
 * Runs `fn` inside a proxy span (so nested spans and {@link injectTraceparent} see it) and ends
 * the span when `fn` settles; a throw is recorded as the span's error. Report the status with
 * `span.end({ statusCode })` inside `fn`, or return it and let the default end record nothing more.
 * @example
 * await withProxySpan({ method: 'GET', route: '/api/*', service: 'sagjan' }, async (span) => {
 *   const res = await forward(span.inject({ ...headers }));
 *   span.end({ statusCode: res.statusCode });
 * });
 */
export async function withProxySpan<T>(attrs: ProxySpanAttributes, fn: (span: ProxySpan) => Promise<T>): Promise<T> {
  const span = startProxySpan(attrs);
  try {
    const result = await context.with(span.context, () => fn(span));
    span.end();
    return result;
  } catch (error) {
    span.end({ error });
    throw error;
  }
}

/**
 * Writes the W3C trace headers of `ctx` (default: the active context) into `headers`.
 * A no-op when tracing is off, so an incoming `traceparent` forwarded as-is stays untouched.
 */
export function injectTraceparent<H extends Record<string, unknown>>(headers: H, ctx: Context = context.active()): H {
  propagation.inject(ctx, headers);
  return headers;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
