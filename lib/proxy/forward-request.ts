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
import type { ServiceInstance } from '../registry/model.js';
import type { RouteMatch } from '../routing/types.js';
import { type ProxySpan, runInSpan } from '../telemetry/tracing.js';
import { setBodyHeaders, writeHeadArray } from '../upstream/header-lists.js';
import {
  buildClientHeaders,
  buildUpstreamHeaders,
  type RequestHeadInfo,
  type ResponseHeadInfo,
} from '../upstream/proxy-headers.js';
import {
  classifyUpstreamError,
  sendProxyError,
  upstreamError,
  upstreamFailureLog,
} from '../upstream/upstream-error.js';
import { replayParsedBody } from './body-replay.js';
import type { ExchangeHost, ExchangeState } from './exchange-host.js';
import type { DeadlineTarget } from './header-deadlines.js';
import { answerContinue, BodyCollector, type BodyReceiver } from './request-body.js';
import { listenDrain, listenResponse, type ResponseEventTarget, stopResponseEvents } from './response-events.js';
import { type BodyMode, mayRetry } from './retry-policy.js';
import { withTraceContext } from './trace-context.js';
import type { Upstream } from './upstream-pools.js';

const CLIENT_GONE = Object.assign(new Error('the client closed the connection'), { code: 'UND_ERR_ABORTED' });
const HEADERS_TIMEOUT = Object.assign(new Error('no response headers in time'), { code: 'UND_ERR_HEADERS_TIMEOUT' });
/** nginx's status for "the client closed the connection before the response", for metrics. */
const CLIENT_CLOSED_STATUS = 499;
/** undici's own (coarse) headers timeout stays on as a backstop behind the precise one. */
const BACKSTOP_MS = 1000;

/**
 * A request in flight through the proxy: the {@link ExchangeState} its host reads (documented
 * there), the {@link BodyReceiver} of its small body, the {@link ResponseEventTarget} of its
 * response. Created by the proxy engine; not for direct use.
 */
export class ProxyExchange implements Dispatcher.DispatchHandler, RequestHeadInfo, ResponseHeadInfo, DeadlineTarget {
  readonly host: ExchangeHost;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  readonly match: RouteMatch;
  /** Path and query to send (before the instance's base path). */
  readonly path: string;
  /** Upstream response-headers timeout in ms. */
  readonly timeoutMs: number;
  readonly startedAt: number;
  readonly stickyKey: string | undefined;
  instance: ServiceInstance | undefined = undefined;
  upstream!: Upstream;
  tried: string[] | undefined;
  retries = 0;
  requestId = '';
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
  span: ProxySpan | undefined;
  #headers: string[];
  #body: Buffer | IncomingMessage | null = null;
  /** Reading a small body before the first attempt; undefined otherwise. */
  #collector: BodyCollector | undefined;
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
    listenResponse(this.res, this);
    const req = this.req;
    const replay = replayParsedBody(req, this.contentLength);
    if (replay !== undefined) {
      this.#headers = setBodyHeaders(this.#headers, replay.data.length, replay.contentType);
      this.#body = replay.data;
      this.bodyMode = 'buffered';
    } else if (this.contentLength > 0 || this.chunked) {
      if (this.expect) answerContinue(this.res);
      if (!this.chunked && this.contentLength <= this.host.bufferLimitBytes) {
        // Buffered, so a retry can send it again; the first attempt starts in bodyCollected.
        this.#collector = new BodyCollector(req, this.contentLength, this);
        return;
      }
      this.#body = req;
      this.bodyMode = 'stream';
    }
    this.#attempt();
  }

  /** @internal The small body is in: the first attempt goes. */
  bodyCollected(body: Buffer): void {
    this.#collector = undefined;
    if (this.#done || this.#clientGone) return;
    this.#body = body;
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
      listenDrain(this.res);
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
    stopResponseEvents(this.res);
    if (this.#collector !== undefined) {
      this.#collector.stop();
      this.#collector = undefined;
    }
  }
}
