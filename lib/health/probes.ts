/**
 * The two active checks: an HTTP GET of the instance's health endpoint (2xx/3xx = healthy) and,
 * for instances without one, a TCP connect. Both honour an AbortSignal; the checker aborts it
 * when its (clock-driven) timeout fires.
 */
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type Dispatcher, request } from 'undici';
import type { Clock } from '../clock.js';

/** What a probe found. */
export interface ProbeResult {
  healthy: boolean;
  /** Duration of the probe in ms (the timeout when it timed out). */
  responseTimeMs: number;
  /** HTTP status, for HTTP probes that got an answer. */
  statusCode?: number;
  /** Why it failed, e.g. `ECONNREFUSED` or `HTTP 500`. */
  error?: string;
}

/** What a probe needs to know about an instance. */
export interface ProbeTarget {
  /** Base URL, `http(s)://host:port`. */
  url: string;
  /** Path (or absolute URL) of the health endpoint; absent → TCP check. */
  healthEndpoint?: string | undefined;
}

/** A health probe. It must settle (healthy or not) once `signal` aborts. */
export type Probe = (target: ProbeTarget, signal: AbortSignal) => Promise<ProbeResult>;

/** The URL an HTTP probe requests: the endpoint appended to the base URL (furt style), or the endpoint when absolute. */
export function healthUrl(target: ProbeTarget): string | undefined {
  const endpoint = target.healthEndpoint;
  if (endpoint === undefined || endpoint === '') return undefined;
  if (/^https?:\/\//i.test(endpoint)) return endpoint;
  return target.url.replace(/\/+$/, '') + (endpoint.startsWith('/') ? endpoint : `/${endpoint}`);
}

/**
 * GETs `url`; healthy on 2xx/3xx (redirects are not followed).
 * @example await httpProbe('http://127.0.0.1:7812/health', AbortSignal.timeout(5000))
 */
export async function httpProbe(url: string, signal: AbortSignal, dispatcher?: Dispatcher): Promise<ProbeResult> {
  const started = performance.now();
  try {
    const res = await request(url, {
      method: 'GET',
      signal,
      headers: { 'user-agent': 'fleetgate-health-check', accept: '*/*' },
      ...(dispatcher === undefined ? {} : { dispatcher }),
    });
    await res.body.dump();
    const healthy = res.statusCode >= 200 && res.statusCode < 400;
    return {
      healthy,
      responseTimeMs: elapsed(started),
      statusCode: res.statusCode,
      ...(healthy ? {} : { error: `HTTP ${res.statusCode}` }),
    };
  } catch (err) {
    return { healthy: false, responseTimeMs: elapsed(started), error: describe(err) };
  }
}

/**
 * Opens and closes a TCP connection to the URL's host and port.
 * @example await tcpProbe('http://127.0.0.1:7812', AbortSignal.timeout(5000))
 */
export function tcpProbe(url: string, signal: AbortSignal): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch (err) {
      resolve({ healthy: false, responseTimeMs: 0, error: describe(err) });
      return;
    }
    const port = Number(u.port || (u.protocol === 'https:' || u.protocol === 'wss:' ? 443 : 80));
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const socket = connect({ host, port });
    let done = false;
    const finish = (result: ProbeResult): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = (): void => finish({ healthy: false, responseTimeMs: elapsed(started), error: 'aborted' });
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish({ healthy: true, responseTimeMs: elapsed(started) }));
    // `on`, not `once`: a late second error on a destroyed socket must not become an uncaught one.
    socket.on('error', (err) => finish({ healthy: false, responseTimeMs: elapsed(started), error: describe(err) }));
  });
}

/**
 * The default probe: HTTP when the instance has a health endpoint, TCP otherwise.
 * @param dispatcher undici dispatcher for HTTP probes (the checker passes its own Agent).
 */
export function createDefaultProbe(dispatcher?: Dispatcher): Probe {
  return (target, signal) => {
    const url = healthUrl(target);
    return url === undefined ? tcpProbe(target.url, signal) : httpProbe(url, signal, dispatcher);
  };
}

/**
 * Runs `probe` with a timeout on `clock` (so fake-clock tests control it): at `timeoutMs` the probe's
 * signal aborts and the result is a failure, whatever the probe does later. Never rejects.
 * @param options.signal aborts the probe early (e.g. the checker closing).
 */
export function probeWithTimeout(
  probe: Probe,
  target: ProbeTarget,
  options: { clock: Clock; timeoutMs: number; signal?: AbortSignal },
): Promise<ProbeResult> {
  const { clock, timeoutMs, signal } = options;
  const ac = new AbortController();
  return new Promise<ProbeResult>((resolve) => {
    let done = false;
    const settle = (r: ProbeResult): void => {
      if (done) return;
      done = true;
      timer.cancel();
      signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const onAbort = (): void => {
      ac.abort();
      settle({ healthy: false, responseTimeMs: 0, error: 'aborted' });
    };
    const timer = clock.setTimeout(() => {
      ac.abort();
      settle({ healthy: false, responseTimeMs: timeoutMs, error: `timeout after ${timeoutMs} ms` });
    }, timeoutMs);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    probe(target, ac.signal).then(settle, (err: unknown) =>
      settle({ healthy: false, responseTimeMs: 0, error: err instanceof Error ? err.message : String(err) }),
    );
  });
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown }; message?: unknown; name?: unknown };
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  if (e?.name === 'AbortError') return 'aborted';
  return typeof e?.message === 'string' ? e.message : String(err);
}
