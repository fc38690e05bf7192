/**
 * A registered service inside the test process: an upstream (upstream-service.ts) joined to the
 * fleet with `registerService()`, serving `GET /api/<service>/**`, with every client event
 * recorded with its time so a test can tell what the client saw during an outage.
 */
import { type GatewayErrorDetails, registerService, type ServiceRegistration } from '../../lib/client/index.js';
import { isFleetgateError } from '../../lib/errors.js';
import { startUpstream, type Upstream } from './upstream-service.js';

/** One recorded client event. */
export interface ClientEvent {
  type: 'heartbeat' | 'heartbeat-failed' | 'registration-failed' | 'reregistered';
  at: number;
  /** The gateway's HTTP status for a failure, absent for network failures. */
  httpStatus?: number;
  /** The error code for a failure: the gateway's own when it answered, `ERR_FG_UPSTREAM_CONNECT` when unreachable. */
  code?: string;
  retryAfterMs?: number;
}

/** A running, registered service. */
export interface FleetService extends AsyncDisposable {
  readonly service: string;
  readonly label: string;
  readonly instanceId: string;
  readonly upstream: Upstream;
  readonly handle: ServiceRegistration;
  readonly events: readonly ClientEvent[];
  /** Deregisters (best effort) and stops the upstream. */
  close(): Promise<void>;
}

/** Options of {@link startFleetService}. */
export interface FleetServiceOptions {
  /** Gateway base URL it registers and heartbeats with. */
  gateway: string;
  service: string;
  /** Named in its replies. */
  label: string;
}

/**
 * Starts an upstream and registers it with `routes: [GET /api/<service>/**]`; resolves once registered.
 * @example const svc = await startFleetService({ gateway: a.url, service: 'orders', label: 'orders-1' });
 */
export async function startFleetService(options: FleetServiceOptions): Promise<FleetService> {
  const upstream = await startUpstream(options.label);
  const handle = registerService({
    gateway: options.gateway,
    service: options.service,
    url: upstream.url,
    routes: [{ method: 'GET', path: `/api/${options.service}/**` }],
    healthEndpoint: '/health',
  });
  const events: ClientEvent[] = [];
  const failure = (type: ClientEvent['type'], err: unknown): ClientEvent => {
    const details = (isFleetgateError(err) ? err.details : undefined) as GatewayErrorDetails | undefined;
    return {
      type,
      at: Date.now(),
      ...(details?.httpStatus === undefined ? {} : { httpStatus: details.httpStatus }),
      ...(details?.retryAfterMs === undefined ? {} : { retryAfterMs: details.retryAfterMs }),
      code: isFleetgateError(err) ? err.code : String(err),
    };
  };
  handle.on('heartbeat', () => events.push({ type: 'heartbeat', at: Date.now() }));
  handle.on('heartbeat-failed', (err) => events.push(failure('heartbeat-failed', err)));
  handle.on('registration-failed', (err) => events.push(failure('registration-failed', err)));
  handle.on('reregistered', () => events.push({ type: 'reregistered', at: Date.now() }));
  let registration: Awaited<ServiceRegistration['ready']>;
  try {
    registration = await handle.ready;
  } catch (err) {
    await handle.close();
    await upstream.close();
    throw err;
  }
  const close = async (): Promise<void> => {
    await handle.close();
    await upstream.close();
  };
  return {
    service: options.service,
    label: options.label,
    instanceId: registration.instanceId,
    upstream,
    handle,
    events,
    close,
    [Symbol.asyncDispose]: close,
  };
}
