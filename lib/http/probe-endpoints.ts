/**
 * `GET /livez` and `GET /readyz` for orchestrators (README "Routing and proxying"). Liveness says the process
 * is serving and depends on nothing else: a gateway whose upstreams or store are down must not be
 * restarted for it. Readiness says it should get traffic: the registry is loaded (the store
 * answered once, or the gateway deliberately serves its last-known table) and it is not draining.
 * Both answer anyone: they name no instance.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../core/send-error.js';
import type { Middleware, Next } from './compose.js';

/** What `/readyz` reports. */
export interface ReadinessReport {
  /** `ready` (200) or `not_ready` (503). */
  status: 'ready' | 'not_ready';
  /** `loaded` once the local route cache was filled from the store, else `loading`. */
  registry: 'loaded' | 'loading';
  /** `connected`, or `last-known` while the store is unreachable and the cached table is served. */
  store: 'connected' | 'last-known';
  /** True from SIGTERM (or `gateway.close()`) on. */
  draining: boolean;
}

/** The state `/readyz` reads. */
export interface ReadinessSource {
  /** Whether the registry's local cache has been filled. */
  loaded(): boolean;
  /** Whether the store answers right now. */
  storeConnected(): boolean;
  /** Whether the gateway is shutting down. */
  draining(): boolean;
}

/**
 * The readiness verdict: ready when loaded and not draining; an unreachable store does not
 * make a loaded gateway unready (it serves last-known routes on purpose).
 * @example readiness({ loaded: () => true, storeConnected: () => false, draining: () => false }).status // 'ready'
 */
export function readiness(source: ReadinessSource): ReadinessReport {
  const loaded = source.loaded();
  const draining = source.draining();
  return {
    status: loaded && !draining ? 'ready' : 'not_ready',
    registry: loaded ? 'loaded' : 'loading',
    store: source.storeConnected() ? 'connected' : 'last-known',
    draining,
  };
}

/** Options of {@link probeEndpoints}. */
export interface ProbeEndpointsOptions {
  /** @default '/livez' */
  livePath: string;
  /** @default '/readyz' */
  readyPath: string;
}

/**
 * Middleware answering `GET`/`HEAD` on `/livez` (`200 {"status":"ok"}`) and `/readyz`
 * (200 or 503 with {@link ReadinessReport}); anything else goes to `next`.
 * @example compose([probeEndpoints(source), ...])
 */
export function probeEndpoints(source: ReadinessSource, options: Partial<ProbeEndpointsOptions> = {}): Middleware {
  const livePath = options.livePath ?? '/livez';
  const readyPath = options.readyPath ?? '/readyz';
  return (req: IncomingMessage, res: ServerResponse, next: Next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path === livePath) return sendJson(res, 200, { status: 'ok' });
    if (path !== readyPath) return next();
    const report = readiness(source);
    sendJson(res, report.status === 'ready' ? 200 : 503, report);
  };
}
