/**
 * What the dashboard shows, kept current by polling: every gateway's `GET /internal/services`
 * and `GET /health`, and every fake service's `GET /_fake/stats` (request counts → rates).
 * Differences between two polls become events ("orders-1 UP → DOWN").
 */
import { EventEmitter } from 'node:events';
import { Agent, request } from 'undici';
import type { ServiceSeries } from '../../lib/dashboard/page-model.js';
import type { EventLog, SandboxEvent } from '../event-log.js';
import type { FleetRunner } from '../fleet-runner.js';
import type { ProcessRecord } from '../state-file.js';
import { diffRegistry, type RegistryMemory, type RegistryStatus } from './registry-diff.js';
import { mergeSeries } from './series-merge.js';

export type { RegistryStatus } from './registry-diff.js';

/** One instance on the dashboard. */
export interface ViewInstance {
  service: string;
  instanceId: string;
  /** Started by the sandbox (has a process), as opposed to registered from elsewhere. */
  managed: boolean;
  /** How it joined when not natively: `eureka` or `consul` (the registry's `metadata.origin`). */
  origin: string | undefined;
  process: ProcessRecord['status'] | undefined;
  pid: number | undefined;
  url: string | undefined;
  registry: RegistryStatus;
  /** How many gateways list it. */
  seenBy: number;
  lastHeartbeat: string | undefined;
  epoch: number | undefined;
  /** Requests per second served, from the fake service's own counter. */
  rps: number;
  requests: number;
  /** Recent registry statuses, oldest first, one per poll. */
  history: RegistryStatus[];
}

/** One gateway on the dashboard. */
export interface ViewGateway {
  name: string;
  url: string | undefined;
  pid: number | undefined;
  process: ProcessRecord['status'];
  health: 'healthy' | 'degraded' | 'unhealthy' | 'unreachable';
  registryType: string | undefined;
  connected: boolean | undefined;
  reason: string | undefined;
  history: string[];
}

/** Everything the dashboard page renders. */
export interface FleetSnapshot {
  at: number;
  backend: string;
  provider: string;
  store: { url: string; running: boolean } | undefined;
  gateways: ViewGateway[];
  services: Array<{ name: string; instances: ViewInstance[] }>;
  events: SandboxEvent[];
  totalRps: number;
  /** Per-service request rate, error rate and p50/p99, merged from the gateways' own dashboards. */
  series?: Record<string, ServiceSeries>;
}

const HISTORY = 60;

interface GatewayListing {
  services?: Record<string, { instances?: Array<Record<string, unknown>> }>;
}

/**
 * Polls the fleet and keeps a {@link FleetSnapshot}.
 * @example const view = new FleetView(runner, events, { backend: 'memory', provider: 'memory' }); view.start(); view.on('snapshot', send);
 */
export class FleetView extends EventEmitter<{ snapshot: [FleetSnapshot] }> {
  readonly #runner: FleetRunner;
  readonly #events: EventLog;
  readonly #meta: { backend: string; provider: string };
  readonly #intervalMs: number;
  readonly #agent = new Agent({ keepAliveTimeout: 10_000, connections: 4 });
  #timer: NodeJS.Timeout | undefined;
  #polling = false;
  #snapshot: FleetSnapshot;
  readonly #history = new Map<string, RegistryStatus[]>();
  readonly #gatewayHistory = new Map<string, string[]>();
  readonly #counters = new Map<string, { at: number; requests: number; rps: number }>();
  #previous: RegistryMemory = new Map();
  readonly #gatewayHealth = new Map<string, string>();

  /** The poll period in ms (one history entry per poll). */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** @param intervalMs poll period. @default 500 */
  constructor(runner: FleetRunner, events: EventLog, meta: { backend: string; provider: string }, intervalMs = 500) {
    super();
    this.#runner = runner;
    this.#events = events;
    this.#meta = meta;
    this.#intervalMs = intervalMs;
    this.#snapshot = this.#build(new Map(), new Map(), Date.now(), false);
  }

  /** The latest snapshot. */
  get snapshot(): FleetSnapshot {
    return { ...this.#snapshot, events: this.#events.recent(50) };
  }

  /** Starts polling. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.poll(), this.#intervalMs);
    this.#timer.unref();
    void this.poll();
  }

  /** One poll; skipped when the previous one is still running. */
  async poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      const now = Date.now();
      const records = this.#runner.records();
      const gateways = records.filter((r) => r.role === 'gateway');
      const listings = new Map<string, GatewayListing | undefined>();
      const health = new Map<string, Record<string, unknown> | undefined>();
      const dashboards: Array<Array<{ name: string; series?: ServiceSeries }>> = [];
      await Promise.all([
        ...gateways.map(async (g) => {
          if (g.url === undefined || g.status !== 'running') return;
          listings.set(g.name, (await this.#get(`${g.url}/internal/services`)) as GatewayListing | undefined);
          health.set(g.name, (await this.#get(`${g.url}/health`)) as Record<string, unknown> | undefined);
          const dash = (await this.#get(`${g.url}/_fleetgate/api/snapshot`)) as
            | { services?: Array<{ name: string; series?: ServiceSeries }> }
            | undefined;
          if (Array.isArray(dash?.services)) dashboards.push(dash.services);
        }),
        ...records
          .filter((r) => r.role === 'service' && r.status === 'running' && r.url !== undefined)
          .map(async (r) => {
            const stats = (await this.#get(`${r.url}/_fake/stats`)) as { requests?: number } | undefined;
            if (typeof stats?.requests === 'number') this.#count(r.name, stats.requests, now);
          }),
      ]);
      this.#snapshot = { ...this.#build(listings, health, now, true), series: mergeSeries(dashboards) };
      this.emit('snapshot', this.snapshot);
    } finally {
      this.#polling = false;
    }
  }

  /** Stops polling and closes sockets. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#agent.close().catch(() => {});
  }

  async #get(url: string): Promise<unknown> {
    try {
      const res = await request(url, {
        dispatcher: this.#agent,
        signal: AbortSignal.timeout(Math.max(300, this.#intervalMs - 50)),
      });
      const text = await res.body.text();
      return text === '' ? undefined : JSON.parse(text);
    } catch {
      return undefined;
    }
  }

  #count(name: string, requests: number, now: number): void {
    const prev = this.#counters.get(name);
    let rps = 0;
    if (prev !== undefined && now > prev.at && requests >= prev.requests) {
      // Smoothed so the number does not flicker between polls.
      const instant = ((requests - prev.requests) * 1000) / (now - prev.at);
      rps = prev.rps * 0.5 + instant * 0.5;
    }
    this.#counters.set(name, { at: now, requests, rps });
  }

  #build(
    listings: Map<string, GatewayListing | undefined>,
    health: Map<string, Record<string, unknown> | undefined>,
    now: number,
    live: boolean,
  ): FleetSnapshot {
    const records = this.#runner.records();
    const store = records.find((r) => r.role === 'store');
    const seen = new Map<string, { service: string; raw: Record<string, unknown>; seenBy: number }>();
    for (const listing of listings.values()) {
      for (const [service, entry] of Object.entries(listing?.services ?? {})) {
        for (const raw of entry.instances ?? []) {
          const id = String(raw.instance_id);
          const key = `${service}/${id}`;
          const had = seen.get(key);
          if (had === undefined) seen.set(key, { service, raw, seenBy: 1 });
          else had.seenBy++;
        }
      }
    }
    // Without any gateway answer there is nothing to compare: a restarting gateway must not look like a mass exit.
    const polled = live && [...listings.values()].some((l) => l !== undefined);
    const instances = new Map<string, ViewInstance>();
    const managed = records.filter((r) => r.role === 'service');
    for (const r of managed) {
      const key = `${r.service}/${r.name}`;
      const s = seen.get(key);
      instances.set(key, this.#instance(r.service as string, r.name, s, r, polled));
    }
    for (const [key, s] of seen) {
      if (!instances.has(key))
        instances.set(key, this.#instance(s.service, String(s.raw.instance_id), s, undefined, polled));
    }
    if (polled) {
      const { next, events } = diffRegistry(this.#previous, instances.values());
      this.#previous = next;
      for (const e of events) this.#events.add(e);
    }

    const services = new Map<string, ViewInstance[]>();
    for (const i of instances.values()) {
      const list = services.get(i.service) ?? [];
      list.push(i);
      services.set(i.service, list);
    }
    const gateways: ViewGateway[] = records
      .filter((r) => r.role === 'gateway')
      .map((r) => this.#gateway(r, health.get(r.name), listings.get(r.name) !== undefined, live));
    return {
      at: now,
      backend: this.#meta.backend,
      provider: this.#meta.provider,
      store: store === undefined ? undefined : { url: store.url ?? '', running: store.status === 'running' },
      gateways,
      services: [...services].map(([name, list]) => ({ name, instances: list })),
      events: [],
      totalRps: Math.round([...instances.values()].reduce((a, i) => a + i.rps, 0)),
    };
  }

  #instance(
    service: string,
    instanceId: string,
    s: { raw: Record<string, unknown>; seenBy: number } | undefined,
    r: ProcessRecord | undefined,
    polled: boolean,
  ): ViewInstance {
    const key = `${service}/${instanceId}`;
    const registry = (s === undefined ? 'ABSENT' : String(s.raw.status)) as RegistryStatus;
    const history = this.#history.get(key) ?? [];
    if (polled) {
      history.push(registry);
      if (history.length > HISTORY) history.splice(0, history.length - HISTORY);
      this.#history.set(key, history);
    }
    const counter = this.#counters.get(instanceId);
    return {
      service,
      instanceId,
      managed: r !== undefined,
      origin: originOf(s?.raw.metadata),
      process: r?.status,
      pid: r?.pid,
      url: (s?.raw.url as string | undefined) ?? r?.url,
      registry,
      seenBy: s?.seenBy ?? 0,
      lastHeartbeat: s?.raw.last_heartbeat as string | undefined,
      epoch: s?.raw.epoch as number | undefined,
      rps: r?.status === 'running' ? Math.round((counter?.rps ?? 0) * 10) / 10 : 0,
      requests: counter?.requests ?? 0,
      history: [...history],
    };
  }

  #gateway(r: ProcessRecord, h: Record<string, unknown> | undefined, reachable: boolean, live: boolean): ViewGateway {
    const registry = (h?.registry ?? {}) as Record<string, unknown>;
    const status = h?.status;
    const healthState: ViewGateway['health'] =
      !reachable || h === undefined
        ? 'unreachable'
        : status === 'healthy' || status === 'degraded' || status === 'unhealthy'
          ? status
          : 'healthy';
    const previous = this.#gatewayHealth.get(r.name);
    if (live && previous !== undefined && previous !== healthState) {
      this.#events.add({
        kind: 'registry',
        target: r.name,
        level: healthState === 'healthy' ? 'good' : healthState === 'degraded' ? 'warn' : 'bad',
        message: `health ${previous} → ${healthState}${typeof registry.reason === 'string' ? ` (${registry.reason})` : ''}`,
      });
    }
    const history = this.#gatewayHistory.get(r.name) ?? [];
    if (live) {
      this.#gatewayHealth.set(r.name, healthState);
      history.push(healthState);
      if (history.length > HISTORY) history.splice(0, history.length - HISTORY);
      this.#gatewayHistory.set(r.name, history);
    }
    return {
      name: r.name,
      url: r.url,
      pid: r.pid,
      process: r.status,
      health: healthState,
      registryType: typeof registry.type === 'string' ? registry.type : undefined,
      connected: typeof registry.connected === 'boolean' ? registry.connected : undefined,
      reason: typeof registry.reason === 'string' ? registry.reason : undefined,
      history: [...history],
    };
  }
}

/** `metadata.origin` of a listed instance, when it is a string. */
function originOf(metadata: unknown): string | undefined {
  const origin =
    typeof metadata === 'object' && metadata !== null ? (metadata as { origin?: unknown }).origin : undefined;
  return typeof origin === 'string' ? origin : undefined;
}
