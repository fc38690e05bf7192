/**
 * OpenTelemetry tracing. `startTracing()` loads the Node SDK, the auto-instrumentations and an
 * OTLP/gRPC or OTLP/HTTP trace exporter only when called (TRACE_URL set), so a gateway without
 * tracing never pays for them. The span helpers
 * use `@opentelemetry/api` alone, which is a no-op until an SDK registers. README "Health, metrics, rate limits, tracing"
 */
import { type Context, context, propagation, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { dropUndefined } from '../core/options-merge.js';
import { FleetgateError } from '../errors.js';
import { parseTraceEndpoint, type TraceEndpoint, type TraceProtocol } from './trace-endpoint.js';

/** Options of {@link startTracing}. */
export interface TracingOptions {
  /**
   * The OTLP endpoint as `TRACE_URL` writes it: `host:4317` or `grpc://host:4317` (OTLP/gRPC),
   * `http(s)://host:4318` (OTLP/HTTP, `/v1/traces` appended when no path is given). See
   * lib/telemetry/trace-endpoint.ts.
   */
  url: string;
  /** `service.name` of the spans. @default 'fleetgate' */
  serviceName: string;
  /**
   * OTLP transport and encoding; undefined: from the URL's scheme and port, or
   * `OTEL_EXPORTER_OTLP_PROTOCOL`. @default undefined
   */
  protocol: TraceProtocol | undefined;
  /** Extra headers for an OTLP/HTTP collector, e.g. an API key (gRPC: `OTEL_EXPORTER_OTLP_HEADERS`). @default {} */
  headers: Record<string, string>;
  /** `shutdown()` gives up flushing after this long, so SIGTERM exits promptly. @default 2000 */
  shutdownTimeoutMs: number;
  /**
   * Bound of one export including its retries. An export still running when `shutdown()` gives up
   * keeps its socket (and so the event loop) until then: exit explicitly after `shutdown()`. @default 5000
   */
  exportTimeoutMs: number;
  /**
   * Load `@opentelemetry/auto-instrumentations-node` for inbound HTTP, undici, ioredis and gRPC
   * (etcd) spans. Which ones: `OTEL_NODE_ENABLED_INSTRUMENTATIONS`, default
   * {@link DEFAULT_INSTRUMENTATIONS} (fs, dns and net stay off). Start tracing before importing
   * the gateway so its modules are instrumented (lib/bin/fleetgate.ts does). @default true
   */
  instrumentations: boolean;
}

/** Defaults of {@link TracingOptions}. Frozen. */
export const TRACING_DEFAULTS: Readonly<Omit<TracingOptions, 'url'>> = Object.freeze({
  serviceName: 'fleetgate',
  protocol: undefined,
  headers: Object.freeze({}) as Record<string, string>,
  shutdownTimeoutMs: 2000,
  exportTimeoutMs: 5000,
  instrumentations: true,
});

/**
 * Resource detectors used unless `OTEL_NODE_RESOURCE_DETECTORS` says otherwise: local ones only
 * (cloud detectors call metadata endpoints over the network and stall start-up off-cloud).
 */
export const LOCAL_RESOURCE_DETECTORS = 'env,host,os,process';

/**
 * Instrumentations loaded unless `OTEL_NODE_ENABLED_INSTRUMENTATIONS` says otherwise: inbound
 * and outbound HTTP, undici (the proxy and health probes), ioredis and gRPC (etcd3). The noisy
 * fs, dns and net are not in the list.
 */
export const DEFAULT_INSTRUMENTATIONS = 'http,undici,ioredis,grpc';

/** Packages the ESM loader hook wraps, so their instrumentation sees `import` as well as `require`. */
const ESM_HOOKED = ['ioredis', 'etcd3', '@grpc/grpc-js', 'http', 'https', 'node:http', 'node:https'];

/** Inbound paths that make no span: orchestrator probes and metric scrapes. */
const UNTRACED_PATHS: ReadonlySet<string> = new Set(['/livez', '/readyz', '/metrics']);

/** A running tracing setup. */
export interface TracingHandle extends AsyncDisposable {
  /** Where spans are sent: the gRPC endpoint or the OTLP/HTTP traces URL. */
  readonly url: string;
  /** How they are sent. */
  readonly protocol: TraceProtocol;
  /** Flushes and stops, bounded by `shutdownTimeoutMs`; unregisters the global tracer. Idempotent. */
  shutdown(): Promise<void>;
}

let active: TracingHandle | undefined;
/** True while the undici instrumentation injects `traceparent` into outgoing requests itself. */
let clientInjects = false;
let esmHookRegistered = false;

/**
 * True when an instrumentation writes `traceparent` on the proxy's upstream requests (undici
 * instrumentation on): the proxy then drops the incoming trace headers instead of writing its own,
 * so the upstream sees one `traceparent`, the child of the upstream client span.
 */
export function upstreamTraceInjected(): boolean {
  return clientInjects;
}

/**
 * Starts exporting spans over OTLP/gRPC or OTLP/HTTP, with the auto-instrumentations (see
 * {@link TracingOptions.instrumentations}). No metric reader and no log exporter are installed (a
 * metric reader's interval keeps the process alive). Calling it again while running returns the
 * running handle.
 * @example
 * const tracing = env.traceUrl ? await startTracing({ url: env.traceUrl }) : undefined; // 'tempo:4317' works
 * const { createGateway } = await import('fleetgate'); // after: so its modules are instrumented
 * process.once('SIGTERM', () => void tracing?.shutdown());
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` for an invalid URL or protocol.
 */
export async function startTracing(options: Partial<TracingOptions> & { url: string }): Promise<TracingHandle> {
  if (active !== undefined) return active;
  const o: TracingOptions = { ...TRACING_DEFAULTS, ...dropUndefined(options), url: options.url };
  const endpoint = parseTraceEndpoint(
    o.url,
    o.protocol === undefined ? process.env : { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: o.protocol },
  );
  process.env.OTEL_NODE_RESOURCE_DETECTORS ??= LOCAL_RESOURCE_DETECTORS;
  const instrumentations = o.instrumentations ? await loadInstrumentations() : [];
  const [{ NodeSDK }, traceExporter] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    createExporter(endpoint, o),
  ]);
  const sdk: NodeSDK = new NodeSDK({
    serviceName: o.serviceName,
    traceExporter,
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations,
  });
  sdk.start();
  clientInjects = instrumentations.some((i) => i.instrumentationName === '@opentelemetry/instrumentation-undici');
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
      for (const i of instrumentations) i.disable();
      clientInjects = false;
      // Unregister the globals so spans become no-ops again (and a later startTracing can register).
      trace.disable();
      propagation.disable();
      context.disable();
      if (active === handle) active = undefined;
    })();
    return stopping;
  };
  const handle: TracingHandle = {
    url: endpoint.url,
    protocol: endpoint.protocol,
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
  active = handle;
  return handle;
}

async function createExporter(endpoint: TraceEndpoint, o: TracingOptions): Promise<SpanExporter> {
  if (endpoint.protocol === 'grpc') {
    if (Object.keys(o.headers).length > 0) {
      // gRPC metadata comes from the exporter's own variable; a silently dropped header would be worse.
      throw new FleetgateError(
        'ERR_FG_INVALID_CONFIG',
        'startTracing: headers are for OTLP/HTTP; for OTLP/gRPC set OTEL_EXPORTER_OTLP_HEADERS',
      );
    }
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-grpc');
    return new OTLPTraceExporter({ url: endpoint.url, timeoutMillis: o.exportTimeoutMs });
  }
  const { OTLPTraceExporter } =
    endpoint.protocol === 'http/json'
      ? await import('@opentelemetry/exporter-trace-otlp-http')
      : await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter({ url: endpoint.url, headers: { ...o.headers }, timeoutMillis: o.exportTimeoutMs });
}

/**
 * The enabled auto-instrumentations, after the ESM loader hook that lets them see packages
 * loaded with `import` (registered once per process with `module.register`, Node ≥ 20.6).
 */
async function loadInstrumentations(): Promise<Instrumentation[]> {
  process.env.OTEL_NODE_ENABLED_INSTRUMENTATIONS ??= DEFAULT_INSTRUMENTATIONS;
  if (!esmHookRegistered) {
    esmHookRegistered = true;
    const { register } = await import('node:module');
    register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ESM_HOOKED } });
  }
  const { getNodeAutoInstrumentations } = await import('@opentelemetry/auto-instrumentations-node');
  return getNodeAutoInstrumentations({
    // Probes and scrapes would drown every trace view.
    '@opentelemetry/instrumentation-http': {
      ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0] ?? ''),
    },
  });
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
  // Inside an inbound span (HTTP instrumentation on) the proxy span is its child; the inbound span
  // already continues the caller's trace. Otherwise the caller's traceparent is the parent.
  const current = context.active();
  const local = trace.getSpan(current) !== undefined;
  const parent =
    local || attrs.incomingHeaders === undefined
      ? current
      : propagation.extract(current, attrs.incomingHeaders, getter);
  const span = trace
    .getTracer('fleetgate')
    .startSpan(
      attrs.route === undefined ? attrs.method : `${attrs.method} ${attrs.route}`,
      { kind: local ? SpanKind.INTERNAL : SpanKind.SERVER, attributes: { 'http.request.method': attrs.method } },
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
 * Runs `fn` inside a new span named `name` (a child of the active one) with `attributes`, and ends
 * it when `fn` settles (a throw marks it failed). A cheap no-op when tracing is off.
 * @example await inSpan('fleetgate.register', { 'fleetgate.service': 'sagjan' }, () => registry.register(input));
 */
export async function inSpan<T>(
  name: string,
  attributes: Record<string, string | number | boolean>,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const tracer = trace.getTracer('fleetgate');
  return tracer.startActiveSpan(name, { kind: SpanKind.INTERNAL, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * Runs `fn` synchronously with `span` as the active span, so spans started inside (the undici
 * instrumentation's client span) are its children.
 */
export function runInSpan(span: ProxySpan, fn: () => void): void {
  context.with(span.context, fn);
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
