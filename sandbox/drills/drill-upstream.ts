/**
 * Upstreams a drill runs in its own process: a small HTTP server with a handler the drill
 * controls (slow, silent, resetting, flapping), registered in the fleet through the real
 * registration API with `registerService()`, and counted socket by socket.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { registerService, type ServiceRegistration } from '../../lib/client/index.js';
import type { RouteSpec } from '../../lib/registry/model.js';
import { listFleet, waitFor } from './fleet-probe.js';

/** A running {@link startUpstream}. */
export interface DrillUpstream {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** TCP connections open right now (from the gateways' pools). */
  openSockets(): number;
  /** Connections accepted since start. */
  acceptedSockets(): number;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts an HTTP server on a free loopback port.
 * @example const up = await startUpstream((req, res) => res.end('ok'));
 */
export async function startUpstream(handler: RequestListener): Promise<DrillUpstream> {
  const server = createServer(handler);
  const sockets = new Set<Socket>();
  let accepted = 0;
  server.on('connection', (s) => {
    accepted++;
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    openSockets: () => sockets.size,
    acceptedSockets: () => accepted,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One instance a drill registers. */
export interface DrillInstance {
  service: string;
  instanceId: string;
  url: string;
  routes: RouteSpec[];
  /** @default '/health' */
  healthEndpoint?: string;
  metadata?: Record<string, unknown>;
}

/**
 * Registers an instance through the first gateway (the store shares it with the others) and
 * keeps it alive with heartbeats until the handle is closed (which deregisters it). Like the
 * sandbox's fake services it follows the gateways: when the first one stops answering, the
 * registration moves to the next (the client SDK's `gateways` failover list).
 */
export function joinFleet(gateways: readonly string[], i: DrillInstance): ServiceRegistration {
  return registerService({
    gateways,
    service: i.service,
    instanceId: i.instanceId,
    url: i.url,
    routes: i.routes,
    healthEndpoint: i.healthEndpoint ?? '/health',
    ...(i.metadata === undefined ? {} : { metadata: i.metadata }),
    requestTimeoutMs: 3000,
    // Short waits, as the fake services: a sandbox gateway comes back within seconds.
    backoff: { initialMs: 200, maxMs: 2000 },
  });
}

/** Waits until every gateway lists all of `instanceIds` as routable (UP or UNKNOWN). */
export async function waitListed(
  gateways: readonly string[],
  instanceIds: readonly string[],
  timeoutMs: number,
): Promise<number | undefined> {
  return waitFor(async () => {
    const listing = await listFleet(gateways);
    return [...listing.values()].every(
      (m) =>
        m !== undefined &&
        instanceIds.every((id) => {
          const s = m.get(id)?.status;
          return s === 'UP' || s === 'UNKNOWN';
        }),
    );
  }, timeoutMs);
}

/** Closes registration handles (they deregister) and upstream servers, whatever fails. */
export async function cleanUp(
  handles: readonly ServiceRegistration[],
  upstreams: readonly (DrillUpstream | undefined)[],
): Promise<void> {
  await Promise.allSettled(handles.map((h) => h.close()));
  await Promise.allSettled(upstreams.map((u) => u?.close()));
}

/** The p-th percentile (0–1) of `values` (sorted here). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}
