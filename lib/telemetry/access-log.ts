/**
 * The access log: one JSON line per proxied request (pino or any `info(obj, msg)` logger), with
 * the fields an operator filters on. Sampled (`sampleRate`, errors always logged) and off-able
 * (don't pass it, or `sampleRate: 0`). Fed by `discoveryProxy({ accessLog })`.
 */
import { FleetgateError } from '../errors.js';

/** One proxied request, as the access log writes it (snake_case, like pino's own fields). */
export interface AccessLogRecord {
  method: string;
  /** The matched route pattern, never the raw path (`-` when none matched). */
  route: string;
  service: string;
  instance_id: string | undefined;
  status: number;
  /** From the proxy taking the request to the response's end, in ms. */
  duration_ms: number;
  /** From the proxy taking the request to the upstream's response headers, in ms; absent when no upstream answered. */
  upstream_ms: number | undefined;
  retries: number;
  request_id: string;
  /** The W3C trace id when tracing is on or the caller sent a `traceparent`. */
  trace_id: string | undefined;
}

/** Where lines go: pino's `logger.info(obj, msg)` fits. */
export interface AccessLogSink {
  info(obj: object, msg?: string): void;
}

/** Options of {@link createAccessLog}. */
export interface AccessLogOptions {
  /** Where lines go. Required. */
  logger: AccessLogSink;
  /** Share of successful requests logged, 0–1; 5xx answers are always logged. `0` turns it off. @default 1 */
  sampleRate: number;
  /** Uniform `[0, 1)` source for sampling. @default Math.random */
  random: () => number;
}

/** The function `discoveryProxy({ accessLog })` calls once per request. */
export type AccessLog = (record: AccessLogRecord) => void;

/**
 * Creates the access log.
 * @example discoveryProxy({ registry, accessLog: createAccessLog({ logger: pino(), sampleRate: 0.1 }) });
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` for a sample rate outside 0–1.
 */
export function createAccessLog(options: Partial<AccessLogOptions> & Pick<AccessLogOptions, 'logger'>): AccessLog {
  const sampleRate = options.sampleRate ?? 1;
  const random = options.random ?? Math.random;
  if (!(Number.isFinite(sampleRate) && sampleRate >= 0 && sampleRate <= 1)) {
    throw new FleetgateError('ERR_FG_INVALID_CONFIG', `access log: sampleRate=${String(sampleRate)} is not in 0–1`, {
      details: { option: 'sampleRate', value: sampleRate },
    });
  }
  const { logger } = options;
  return (record) => {
    if (record.status < 500 && (sampleRate === 0 || (sampleRate < 1 && random() >= sampleRate))) return;
    logger.info({ ...record, type: 'access' }, 'request');
  };
}

/** The trace id of a W3C `traceparent` value, if well formed. */
export function traceIdOf(traceparent: string | string[] | undefined): string | undefined {
  if (typeof traceparent !== 'string') return undefined;
  const m = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(traceparent.trim());
  return m?.[1];
}
