/**
 * One proxied request: the client's request streamed to an instance through undici, the
 * response streamed back with backpressure, retried on another instance when that is safe.
 *
 * The exchange object is itself undici's dispatch handler (the raw `onConnect`/`onHeaders`/
 * `onData` interface, which undici runs without wrapping and which hands over header bytes
 * without building an object), so a request allocates one object and no closures.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { FleetgateError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ServiceInstance } from '../registry/model.js';
import type { RouteMatch } from '../routing/types.js';
import { type ProxySpan, runInSpan, upstreamTraceInjected } from '../telemetry/tracing.js';
import { setBodyHeaders, writeHeadArray } from '../upstream/header-lists.js';
import {
  buildClientHeaders,
  buildUpstreamHeaders,
  type RequestHeadInfo,
  type ResponseHeadInfo,
  type UpstreamHeaderOptions,
} from '../upstream/proxy-headers.js';
import {
  classifyUpstreamError,
  sendProxyError,
  type UpstreamFailureKind,
  upstreamError,
  upstreamFailureLog,
} from '../upstream/upstream-error.js';
import { hasParsedBody, serializeParsedBody } from './body-replay.js';
import type { DeadlineTarget, HeaderDeadlines } from './header-deadlines.js';
import { type BodyMode, mayRetry, type RetryBudget } from './retry-policy.js';
import type { Upstream } from './upstream-pools.js';

/** Where an attempt goes. */
export interface AttemptTarget {
  /** The registered instance; undefined for a static route's fixed target. */
  instance: ServiceInstance | undefined;
  upstream: Upstream;
}

/** What an exchange needs from the proxy that runs it. */
export interface ExchangeHost {
  readonly headerOptions: UpstreamHeaderOptions;
  /** The gateway's `Via` entry on responses. */
  readonly responseVia: string;
  /** Retries after the first attempt. */
  readonly maxRetries: number;
  /** Known-length bodies up to this size are buffered (replayable). */
  readonly bufferLimitBytes: number;
  readonly budget: RetryBudget;
  /** The response-header timeouts. */
  readonly deadlines: HeaderDeadlines;
  /** Where failures naming the instance and its address go (never the client's body). */
  readonly logger: Logger;
  /** An instance not in `exchange.tried` for a retry, or undefined. */
  pickRetry(exchange: ProxyExchange): AttemptTarget | undefined;
  /** An attempt is about to be dispatched. */
  attemptStarted(exchange: ProxyExchange): void;
  /** The attempt's outcome is known: response status, or how it failed. */
  attemptOutcome(exchange: ProxyExchange, status: number, failure: UpstreamFailureKind | undefined): void;
  /** The attempt is over (response complete, or failed). */
  attemptEnded(exchange: ProxyExchange): void;
  /** The request goes to another instance after an attempt failed with `kind` (for metrics). */
  retrying(exchange: ProxyExchange, kind: UpstreamFailureKind): void;
  /** The request is over; `status` is what the client got (499 when it left first). */
  requestEnded(exchange: ProxyExchange, status: number): void;
  /** Starts the request's span when tracing is on. */
  startSpan(exchange: ProxyExchange): ProxySpan | undefined;
}

/** Properties the exchange hangs on Node's objects, so shared listeners find it without closures. */
interface WithExchange {
  [kExchange]?: ProxyExchange;
}
const kExchange = Symbol('fleetgate.exchange');

const CLIENT_GONE = Object.assign(new Error('the client closed the connection'), { code: 'UND_ERR_ABORTED' });
const HEADERS_TIMEOUT = Object.assign(new Error('no response headers in time'), { code: 'UND_ERR_HEADERS_TIMEOUT' });
/** nginx's status for "the client closed the connection before the response", for metrics. */
const CLIENT_CLOSED_STATUS = 499;
/** undici's own (coarse) headers timeout stays on as a backstop behind the precise one. */
const BACKSTOP_MS = 1000;

function onResClose(this: ServerResponse & WithExchange): void {
  this[kExchange]?.clientClosed();
}
function onResDrain(this: ServerResponse & WithExchange): void {
  this[kExchange]?.drained();
}
function onReqData(this: IncomingMessage & WithExchange, chunk: Buffer): void {
  this[kExchange]?.bodyChunk(chunk);
}
function onReqEnd(this: IncomingMessage & WithExchange): void {
  this[kExchange]?.bodyEnd();
}
function onReqError(this: IncomingMessage & WithExchange): void {
  this[kExchange]?.clientClosed();
}

/**
 * Replaces `traceparent`/`tracestate` with the span's, so the upstream's spans are its children.
 * When the undici instrumentation writes them on each attempt (as the child of its client span),
 * the incoming ones are only removed, so the upstream never gets two.
 */
function withTraceContext(headers: string[], span: ProxySpan): string[] {
  const carrier: Record<string, string> = {};
  if (!upstreamTraceInjected()) span.inject(carrier);
  else carrier.traceparent = '';
  if (carrier.traceparent === undefined) return headers;
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const lower = headers[i]!.toLowerCase();
    if (lower !== 'traceparent' && lower !== 'tracestate') out.push(headers[i]!, headers[i + 1]!);
  }
  for (const [k, v] of Object.entries(carrier)) if (v !== '') out.push(k, v);
  return out;
}

/** A request in flight through the proxy. Created by the proxy engine; not for direct use. */
export class ProxyExchange implements Dispatcher.DispatchHandler, RequestHeadInfo, ResponseHeadInfo, DeadlineTarget {
  readonly host: ExchangeHost;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  /** The matched route. */
  readonly match: RouteMatch;
  /** Path and query to send (before the instance's base path). */
  readonly path: string;
  /** Upstream response-headers timeout in ms. */
  readonly timeoutMs: number;
  /** `performance.now()` when the gateway took the request. */
  readonly startedAt: number;
  /** The routed service (undefined for a fixed static target). */
  readonly service: string | undefined;
  /** The request's sticky-session key: every attempt, retries included, is placed by it. */
  readonly stickyKey: string | undefined;
  instance: ServiceInstance | undefined = undefined;
  upstream!: Upstream;
  /** Instance ids already tried, for retries. */
  tried: string[] | undefined;
  retries = 0;
  requestId = '';
  /** `performance.now()` when the upstream's response headers arrived (the access log's upstream time). */
  headersAt: number | undefined;
  contentLength = -1;
  chunked = false;
  expect = false;
  /** Set while building the upstream headers when the request must not be forwarded. */
  refusal: FleetgateError | undefined = undefined;
  flushHead = false;
  bodyMode: BodyMode = 'none';
  wroteToUpstream = false;
  responseStarted = false;
  deadlineFifo: unknown = undefined;
  deadlineSlot = 0;
  /** The request's trace span (tracing on only). */
  span: ProxySpan | undefined;
  #headers: string[];
  #body: Buffer | IncomingMessage | null = null;
  #buffer: Buffer | undefined;
  #buffered = 0;
  #abort: ((err?: Error) => void) | undefined;
  #resume: (() => void) | undefined;
  #inAttempt = false;
  #done = false;
  #clientGone = false;
  #drainListening = false;

  /**
   * Reads the request head (before an instance is chosen, so a refusal such as a `Via` loop costs
   * no balancer decision): check {@link refusal}, then {@link start}.
   */
  constructor(
    host: ExchangeHost,
    req: IncomingMessage,
    res: ServerResponse,
    match: RouteMatch,
    timeoutMs: number,
    startedAt: number,
    stickyKey: string | undefined,
  ) {
    this.host = host;
    this.req = req;
    this.res = res;
    this.method = req.method ?? 'GET';
    this.match = match;
    this.path = match.upstreamPath;
    this.service = match.service;
    this.stickyKey = stickyKey;
    this.timeoutMs = timeoutMs;
    this.startedAt = startedAt;
    this.#headers = buildUpstreamHeaders(req, host.headerOptions, this);
  }

  /** Starts forwarding to `instance`: decides how the body travels, then dispatches the first attempt. */
  start(instance: ServiceInstance | undefined, upstream: Upstream): void {
    this.instance = instance;
    this.upstream = upstream;
    this.span = this.host.startSpan(this);
    if (this.span !== undefined) this.#headers = withTraceContext(this.#headers, this.span);
    const res = this.res as ServerResponse & WithExchange;
    res[kExchange] = this;
    res.on('close', onResClose);
    const req = this.req;
    if (hasParsedBody(req)) {
      const replay = serializeParsedBody(
        (req as { body?: unknown }).body,
        req.headers['content-type'],
        this.contentLength,
      );
      this.#headers = setBodyHeaders(this.#headers, replay.data.length, replay.contentType);
      this.#body = replay.data;
      this.bodyMode = 'buffered';
    } else if (this.contentLength > 0 || this.chunked) {
      this.#continue();
      if (!this.chunked && this.contentLength <= this.host.bufferLimitBytes) {
        this.#readWholeBody();
        return;
      }
      this.#body = req;
      this.bodyMode = 'stream';
    }
    this.#attempt();
  }

  /** Answers `Expect: 100-continue` unless Node (or the app) already did. */
  #continue(): void {
    if (this.expect && (this.res as { _sent100?: boolean })._sent100 !== true && !this.res.headersSent) {
      this.res.writeContinue();
    }
  }

  /** Buffers a small body of known length, so a retry can send it again. */
  #readWholeBody(): void {
    const req = this.req as IncomingMessage & WithExchange;
    this.#buffer = Buffer.allocUnsafe(this.contentLength);
    req[kExchange] = this;
    req.on('data', onReqData);
    req.on('end', onReqEnd);
    req.on('error', onReqError);
  }

  /** @internal */
  bodyChunk(chunk: Buffer): void {
    const room = this.#buffer!.length - this.#buffered;
    chunk.copy(this.#buffer!, this.#buffered, 0, Math.min(room, chunk.length));
    this.#buffered += Math.min(room, chunk.length);
  }

  /** @internal */
  bodyEnd(): void {
    const req = this.req as IncomingMessage & WithExchange;
    req.off('data', onReqData);
    req.off('end', onReqEnd);
    req[kExchange] = undefined;
    if (this.#done || this.#clientGone) return;
    this.#body = this.#buffered === this.#buffer!.length ? this.#buffer! : this.#buffer!.subarray(0, this.#buffered);
    this.#buffer = undefined;
    this.bodyMode = 'buffered';
    this.#attempt();
  }

  #attempt(): void {
    this.wroteToUpstream = false;
    this.#abort = undefined;
    this.#inAttempt = true;
    this.host.attemptStarted(this);
    if (this.span === undefined) this.#dispatch();
    // Inside the proxy span: the undici instrumentation's client span (one per attempt) is its child.
    else runInSpan(this.span, this.#dispatchBound);
  }

  readonly #dispatchBound = (): void => this.#dispatch();

  #dispatch(): void {
    const up = this.upstream;
    up.pool.dispatch(
      {
        path: up.basePath === '' ? this.path : up.basePath + this.path,
        method: this.method as Dispatcher.HttpMethod,
        headers: this.#headers,
        body: this.#body,
        headersTimeout: this.timeoutMs + BACKSTOP_MS,
        bodyTimeout: 0,
      },
      this,
    );
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.#clientGone) {
      abort(CLIENT_GONE);
      return;
    }
    this.#abort = abort;
    this.wroteToUpstream = true;
  }

  /** The whole request (body included) is on the wire: the response-header timeout starts. */
  onRequestSent(): void {
    this.host.deadlines.add(this, this.timeoutMs);
  }

  /** @internal Called by the deadline wheel. */
  headersTimedOut(): void {
    this.#abort?.(HEADERS_TIMEOUT);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    // 1xx (e.g. an upstream's own 100 Continue) is not the response; Node answered the client's expectation.
    if (statusCode < 200) return true;
    this.headersAt = performance.now();
    if (this.deadlineFifo !== undefined) this.host.deadlines.clear(this);
    this.#resume = resume;
    this.host.attemptOutcome(this, statusCode, undefined);
    const headers = buildClientHeaders(
      rawHeaders,
      this.requestId,
      performance.now() - this.startedAt,
      this,
      this.host.responseVia,
    );
    writeHeadArray(this.res, statusCode, headers);
    this.responseStarted = true;
    if (this.flushHead) this.res.flushHeaders();
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    if (!this.#drainListening) {
      this.#drainListening = true;
      this.res.on('drain', onResDrain);
    }
    return false;
  }

  /** @internal The client can take more bytes. */
  drained(): void {
    this.#resume?.();
  }

  onComplete(): void {
    this.#endAttempt();
    this.#finish(this.res.statusCode);
    this.res.end();
  }

  onError(err: Error): void {
    this.#endAttempt();
    if (this.#done) return;
    if (this.#clientGone) {
      this.host.attemptOutcome(this, 0, 'aborted');
      this.#finish(CLIENT_CLOSED_STATUS);
      return;
    }
    const kind = classifyUpstreamError(err);
    if (!this.responseStarted) this.host.attemptOutcome(this, 0, kind);
    if (this.responseStarted) {
      // Bytes already went out: cut the client's connection so it sees a truncated response.
      this.#finish(this.res.statusCode);
      this.res.destroy(err);
      return;
    }
    if (mayRetry(this, kind, this.host.maxRetries)) {
      if (this.tried === undefined) this.tried = [];
      this.tried.push(this.instance?.instanceId ?? this.upstream.url);
      const next = this.host.pickRetry(this);
      if (next !== undefined && this.host.budget.tryAcquire()) {
        this.retries++;
        this.host.retrying(this, kind);
        this.instance = next.instance;
        this.upstream = next.upstream;
        this.#attempt();
        return;
      }
    }
    const error = upstreamError(err, kind, this.describeTarget());
    this.host.logger.warn(upstreamFailureLog(error));
    this.#finish(error.status);
    sendProxyError(this.res, error, this.requestId);
  }

  /** @internal The client went away (connection closed before the response finished). */
  clientClosed(): void {
    if (this.#done || this.res.writableFinished) return;
    this.#clientGone = true;
    if (this.#abort !== undefined) this.#abort(CLIENT_GONE);
    else if (!this.#inAttempt) this.#finish(CLIENT_CLOSED_STATUS);
  }

  /** `service/instance (url)` for messages. */
  describeTarget(): string {
    const i = this.instance;
    return i === undefined ? this.upstream.url : `${i.service}/${i.instanceId} (${i.url})`;
  }

  #endAttempt(): void {
    if (!this.#inAttempt) return;
    this.#inAttempt = false;
    // The parser's resume belongs to the socket, which may soon serve another request.
    this.#resume = undefined;
    if (this.deadlineFifo !== undefined) this.host.deadlines.clear(this);
    this.#abort = undefined;
    this.host.attemptEnded(this);
  }

  #finish(status: number): void {
    if (this.#done) return;
    this.#done = true;
    this.host.requestEnded(this, status);
    const res = this.res as ServerResponse & WithExchange;
    res[kExchange] = undefined;
    if (this.#buffer !== undefined) {
      const req = this.req as IncomingMessage & WithExchange;
      req.off('data', onReqData);
      req.off('end', onReqEnd);
      req[kExchange] = undefined;
      this.#buffer = undefined;
    }
  }
}
