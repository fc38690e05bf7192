/**
 * What the gateways say right now: each gateway's `GET /internal/services` and `GET /health`,
 * plus waiting (with a deadline, polling every 50 ms) until they say something in particular.
 */
import type { SandboxClient } from '../cli/control-client.js';
import type { ProcessRecord } from '../state-file.js';
import { delay } from '../supervisor.js';

/** One instance as one gateway lists it. */
export interface ListedInstance {
  service: string;
  instanceId: string;
  url: string;
  status: string;
  epoch: number | undefined;
  /** `registered_at` as ms since epoch, when listed. */
  registeredAt: number | undefined;
}

/** Every gateway's listing: gateway URL → instance id → instance (`undefined` = unreachable). */
export type FleetListing = Map<string, Map<string, ListedInstance> | undefined>;

/**
 * Lists every gateway, following `next_cursor` through every page (the listing is bounded);
 * `service` narrows it to one service. A gateway that does not answer a page within `timeoutMs`
 * counts as unreachable.
 */
export async function listFleet(
  gateways: readonly string[],
  timeoutMs = 1000,
  service?: string,
): Promise<FleetListing> {
  const out: FleetListing = new Map();
  await Promise.all(
    gateways.map(async (g) => {
      try {
        const map = new Map<string, ListedInstance>();
        let cursor: string | null = null;
        do {
          const q = new URLSearchParams({ limit: '5000' });
          if (service !== undefined) q.set('service', service);
          if (cursor !== null) q.set('cursor', cursor);
          const res = await fetch(`${g}/internal/services?${q}`, { signal: AbortSignal.timeout(timeoutMs) });
          if (!res.ok) {
            out.set(g, undefined);
            return;
          }
          const body = (await res.json()) as {
            services?: Record<string, { instances?: Array<Record<string, unknown>> }>;
            next_cursor?: string | null;
          };
          for (const [name, entry] of Object.entries(body.services ?? {})) {
            for (const i of entry.instances ?? []) {
              const id = String(i.instance_id);
              map.set(id, {
                service: name,
                instanceId: id,
                url: String(i.url),
                status: String(i.status),
                epoch: typeof i.epoch === 'number' ? i.epoch : undefined,
                registeredAt: typeof i.registered_at === 'string' ? Date.parse(i.registered_at) : undefined,
              });
            }
          }
          cursor = body.next_cursor ?? null;
        } while (cursor !== null);
        out.set(g, map);
      } catch {
        out.set(g, undefined);
      }
    }),
  );
  return out;
}

/** A gateway's `GET /health` body, or `undefined` when it does not answer. */
export async function gatewayHealth(gateway: string): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await fetch(`${gateway}/health`, { signal: AbortSignal.timeout(1000) });
    return (await res.json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Routable on every gateway: listed and `UP` (or `UNKNOWN`, before the first health check). */
export function routableEverywhere(listing: FleetListing, instanceId: string, url?: string): boolean {
  for (const map of listing.values()) {
    const i = map?.get(instanceId);
    if (i === undefined || !(i.status === 'UP' || i.status === 'UNKNOWN')) return false;
    if (url !== undefined && i.url !== url) return false;
  }
  return listing.size > 0;
}

/** Out of routing on every gateway that answers: not listed, or listed as DOWN/DRAINING. */
export function outOfRoutingEverywhere(listing: FleetListing, instanceId: string): boolean {
  for (const map of listing.values()) {
    if (map === undefined) return false;
    const i = map.get(instanceId);
    if (i !== undefined && (i.status === 'UP' || i.status === 'UNKNOWN')) return false;
  }
  return true;
}

/**
 * Polls every 50 ms until `predicate` holds; resolves the ms it took, or `undefined` at the deadline.
 */
export async function waitFor(predicate: () => Promise<boolean>, timeoutMs: number): Promise<number | undefined> {
  const t0 = Date.now();
  for (;;) {
    if (await predicate().catch(() => false)) return Date.now() - t0;
    if (Date.now() - t0 >= timeoutMs) return undefined;
    await delay(50);
  }
}

/** The sandbox's processes and gateway URLs now (they change as things restart). */
export async function liveProcesses(
  client: SandboxClient,
): Promise<{ processes: ProcessRecord[]; gatewayUrls: string[] }> {
  const s = await client.fetchState<{ processes: ProcessRecord[]; gatewayUrls: string[] }>();
  return { processes: s.processes, gatewayUrls: s.gatewayUrls };
}

/** Managed instances that are running. */
export function runningInstances(processes: ProcessRecord[], service?: string): ProcessRecord[] {
  return processes.filter(
    (p) => p.role === 'service' && p.status === 'running' && (service === undefined || p.service === service),
  );
}

/** Waits until every running managed instance is routable on every gateway. */
export async function waitFleetRoutable(client: SandboxClient, timeoutMs: number): Promise<boolean> {
  const ms = await waitFor(async () => {
    const { processes, gatewayUrls } = await liveProcesses(client);
    const listing = await listFleet(gatewayUrls);
    return runningInstances(processes).every((p) => routableEverywhere(listing, p.name, p.url));
  }, timeoutMs);
  return ms !== undefined;
}

/**
 * True when every gateway's `/_fleetgate/explain` for `method path` no longer offers
 * `instanceId`: excluded (ejected, DOWN, expired, draining) or not a candidate at all. This
 * sees passive ejection, which the registry listing does not.
 */
export async function excludedEverywhere(
  gateways: readonly string[],
  method: string,
  path: string,
  instanceId: string,
): Promise<boolean> {
  const answers = await Promise.all(
    gateways.map((g) =>
      fetch(`${g}/_fleetgate/explain?method=${method}&path=${encodeURIComponent(path)}`, {
        signal: AbortSignal.timeout(1000),
      })
        .then(
          (r) => r.json() as Promise<{ candidates?: { instanceId?: string }[]; excluded?: { instanceId?: string }[] }>,
        )
        .catch(() => undefined),
    ),
  );
  return answers.every(
    (a) =>
      a !== undefined &&
      (a.excluded?.some((e) => e.instanceId === instanceId) === true ||
        a.candidates?.some((c) => c.instanceId === instanceId) !== true),
  );
}
