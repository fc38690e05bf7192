/**
 * What a proxied request (lib/proxy/forward-request.ts) and the proxy that runs it
 * (lib/proxy/proxy-engine.ts) know of each other: the host's callbacks, and the part of a request
 * in flight the host reads. Both sides import this file, so neither imports the other for it.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../logger.js';
import type { ServiceInstance } from '../registry/model.js';
import type { RouteMatch } from '../routing/types.js';
import type { ProxySpan } from '../telemetry/tracing.js';
import type { UpstreamHeaderOptions } from '../upstream/proxy-headers.js';
import type { UpstreamFailureKind } from '../upstream/upstream-error.js';
import type { HeaderDeadlines } from './header-deadlines.js';
import type { RetryBudget } from './retry-policy.js';
import type { Upstream } from './upstream-pools.js';

/** Where an attempt goes. */
export interface AttemptTarget {
  /** The registered instance; undefined for a static route's fixed target. */
  instance: ServiceInstance | undefined;
  upstream: Upstream;
}

/** What the host reads of a request in flight (a {@link import('./forward-request.js').ProxyExchange}). */
export interface ExchangeState {
  readonly req: IncomingMessage;
  readonly method: string;
  /** The matched route. */
  readonly match: RouteMatch;
  /** `performance.now()` when the gateway took the request. */
  readonly startedAt: number;
  /** The request's sticky-session key: every attempt, retries included, is placed by it. */
  readonly stickyKey: string | undefined;
  /** The instance of the current attempt; undefined for a static route's fixed target. */
  readonly instance: ServiceInstance | undefined;
  /** Instance ids already tried, for retries. */
  readonly tried: readonly string[] | undefined;
  /** Retries made so far. */
  readonly retries: number;
  /** `X-Request-Id` sent upstream and echoed to the client. */
  readonly requestId: string;
  /** `performance.now()` when the upstream's response headers arrived (the access log's upstream time). */
  readonly headersAt: number | undefined;
  /** The request's trace span (tracing on only). */
  readonly span: ProxySpan | undefined;
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
  pickRetry(exchange: ExchangeState): AttemptTarget | undefined;
  /** An attempt is about to be dispatched. */
  attemptStarted(exchange: ExchangeState): void;
  /** The attempt's outcome is known: response status, or how it failed. */
  attemptOutcome(exchange: ExchangeState, status: number, failure: UpstreamFailureKind | undefined): void;
  /** The attempt is over (response complete, or failed). */
  attemptEnded(exchange: ExchangeState): void;
  /** The request goes to another instance after an attempt failed with `kind` (for metrics). */
  retrying(exchange: ExchangeState, kind: UpstreamFailureKind): void;
  /** The request is over; `status` is what the client got (499 when it left first). */
  requestEnded(exchange: ExchangeState, status: number): void;
  /** Starts the request's span when tracing is on. */
  startSpan(exchange: ExchangeState): ProxySpan | undefined;
}
