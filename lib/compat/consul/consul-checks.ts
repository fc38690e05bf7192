/**
 * What a Consul agent keeps for the services registered with it, kept by the gateway that took
 * the registration: each check's status (a TTL check starts critical, goes critical again when
 * its TTL lapses without a pass, and may deregister its service after
 * `DeregisterCriticalServiceAfter`), and the service's registry lease, renewed on the service's
 * behalf as a Consul agent keeps its services (Consul clients do not heartbeat). Check results
 * reach routing as the instance status: any critical → DOWN, any warning → UNKNOWN, else UP.
 */
import type { Clock, TimerHandle } from '../../clock.js';
import type { Logger } from '../../logger.js';
import type { InstanceStatus } from '../../registry/model.js';
import type { RegistryApi } from '../../registry/registry-api.js';
import type { ConsulCheckSpec, ConsulRecord } from './consul-registration.js';

/** Consul's check statuses. */
export type ConsulCheckStatus = 'passing' | 'warning' | 'critical';

/** One check's state. */
export interface ConsulCheckState {
  spec: ConsulCheckSpec;
  serviceId: string;
  status: ConsulCheckStatus;
  output: string;
}

interface Tracked {
  service: string;
  instanceId: string;
  checks: ConsulCheckState[];
  keeper: TimerHandle;
  timers: Map<string, TimerHandle>;
}

/** The checks and leases of the services registered through this gateway. */
export class ConsulChecks {
  readonly #services = new Map<string, Tracked>();
  readonly #byCheck = new Map<string, ConsulCheckState>();
  readonly #registry: RegistryApi;
  readonly #clock: Clock;
  readonly #logger: Logger;

  constructor(registry: RegistryApi, clock: Clock, logger: Logger) {
    this.#registry = registry;
    this.#clock = clock;
    this.#logger = logger;
  }

  /** Starts keeping `record` (replacing what was kept under its id). */
  track(record: ConsulRecord, service: string, instanceId: string): void {
    this.untrack(record.id);
    const checks = record.checks.map((spec) => ({
      spec,
      serviceId: record.id,
      status: (spec.kind === 'ttl' ? 'critical' : 'passing') as ConsulCheckStatus,
      output: spec.kind === 'ttl' ? 'TTL expired' : '',
    }));
    const renewEvery = Math.max(100, Math.floor(this.#registry.ttlMs / 3));
    const keeper = this.#clock.setInterval(() => {
      this.#registry.heartbeat(service, instanceId).catch(() => this.untrack(record.id));
    }, renewEvery);
    const tracked: Tracked = { service, instanceId, checks, keeper, timers: new Map() };
    this.#services.set(record.id, tracked);
    for (const c of checks) {
      this.#byCheck.set(c.spec.checkId, c);
      if (c.status === 'critical') this.#armDeregister(tracked, c);
    }
  }

  /** Stops keeping the service `serviceId`. */
  untrack(serviceId: string): void {
    const t = this.#services.get(serviceId);
    if (t === undefined) return;
    t.keeper.cancel();
    for (const timer of t.timers.values()) timer.cancel();
    for (const c of t.checks) this.#byCheck.delete(c.spec.checkId);
    this.#services.delete(serviceId);
  }

  /** The checks kept for `serviceId` (empty when it was registered elsewhere). */
  checksOf(serviceId: string): readonly ConsulCheckState[] {
    return this.#services.get(serviceId)?.checks ?? [];
  }

  /**
   * Records a check result (`PUT /v1/agent/check/pass|warn|fail/:id`). A TTL check's timer starts
   * over. Returns false for an unknown check id.
   */
  async update(checkId: string, status: ConsulCheckStatus, output: string): Promise<boolean> {
    const c = this.#byCheck.get(checkId);
    const t = c === undefined ? undefined : this.#services.get(c.serviceId);
    if (c === undefined || t === undefined) return false;
    c.status = status;
    c.output = output;
    t.timers.get(`ttl:${checkId}`)?.cancel();
    t.timers.delete(`ttl:${checkId}`);
    if (c.spec.kind === 'ttl' && c.spec.ttlMs !== undefined) {
      const lapse = this.#clock.setTimeout(() => {
        c.status = 'critical';
        c.output = 'TTL expired';
        this.#armDeregister(t, c);
        void this.#apply(t);
      }, c.spec.ttlMs);
      t.timers.set(`ttl:${checkId}`, lapse);
    }
    if (status === 'critical') this.#armDeregister(t, c);
    else {
      t.timers.get(`dereg:${checkId}`)?.cancel();
      t.timers.delete(`dereg:${checkId}`);
    }
    await this.#apply(t);
    return true;
  }

  /** Stops every timer. */
  close(): void {
    for (const id of [...this.#services.keys()]) this.untrack(id);
  }

  #armDeregister(t: Tracked, c: ConsulCheckState): void {
    const after = c.spec.deregisterCriticalAfterMs;
    if (after === undefined || t.timers.has(`dereg:${c.spec.checkId}`)) return;
    const timer = this.#clock.setTimeout(() => {
      this.#logger.info(`fleetgate consul API: ${c.serviceId} critical for ${after} ms, deregistered`);
      this.untrack(c.serviceId);
      void this.#registry.deregister(t.service, t.instanceId).catch(() => {});
    }, after);
    t.timers.set(`dereg:${c.spec.checkId}`, timer);
  }

  async #apply(t: Tracked): Promise<void> {
    const statuses = t.checks.map((c) => c.status);
    const wanted: InstanceStatus = statuses.includes('critical')
      ? 'DOWN'
      : statuses.includes('warning')
        ? 'UNKNOWN'
        : 'UP';
    const current = this.#registry.get(t.service, t.instanceId);
    if (current !== undefined && current.status !== wanted)
      await this.#registry.setStatus(t.service, t.instanceId, wanted).catch(() => {});
  }
}
