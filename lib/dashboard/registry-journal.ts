/**
 * Follows a registry for the dashboard: registrations, deregistrations, expiries, status changes
 * and store outages become recent events, and status changes feed each instance's history.
 * Heartbeats that change nothing cost one comparison.
 */
import type { Clock } from '../clock.js';
import type { ServiceInstance } from '../registry/model.js';
import type { RegistryApi, RegistryChange, StoreState } from '../registry/registry-api.js';
import type { DashboardEvent } from './page-model.js';
import { RecentEvents } from './recent-events.js';
import { StatusHistory } from './status-history.js';

/** The history key of an instance. */
export function instanceKey(service: string, instanceId: string): string {
  return `${service}/${instanceId}`;
}

/** Level of an event about an instance entering `status`. */
function levelOf(status: string): DashboardEvent['level'] {
  if (status === 'UP') return 'good';
  if (status === 'DOWN') return 'bad';
  return 'warn';
}

/**
 * @example
 * const journal = new RegistryJournal(registry, clock, () => feed.changed());
 * journal.events.list(); // newest last
 * journal.close();
 */
export class RegistryJournal {
  /** Recent events, newest last. */
  readonly events: RecentEvents;
  /** Status changes per instance. */
  readonly history: StatusHistory;
  readonly #registry: RegistryApi;
  readonly #clock: Clock;
  readonly #onEvent: () => void;
  readonly #onChange = (c: RegistryChange): void => this.#change(c);
  readonly #onStoreState = (s: StoreState): void => this.#storeState(s);

  /** @param onEvent called after each recorded event (the feed pushes soon after). */
  constructor(registry: RegistryApi, clock: Clock, onEvent: () => void, options: { events?: number } = {}) {
    this.#registry = registry;
    this.#clock = clock;
    this.#onEvent = onEvent;
    this.events = new RecentEvents(options.events ?? 100);
    this.history = new StatusHistory();
    const now = clock.now();
    for (const i of registry.instances()) this.history.mark(instanceKey(i.service, i.instanceId), i.status, now);
    registry.on('change', this.#onChange);
    registry.on('store-state', this.#onStoreState);
  }

  /** Stops following the registry. Idempotent. */
  close(): void {
    this.#registry.off('change', this.#onChange);
    this.#registry.off('store-state', this.#onStoreState);
  }

  #change(c: RegistryChange): void {
    const at = this.#clock.now();
    const inst: ServiceInstance | undefined = c.instance;
    const prev = c.previous;
    switch (c.type) {
      case 'heartbeat':
      case 'status':
        if (inst === undefined || prev?.status === inst.status) return;
        this.history.mark(instanceKey(inst.service, inst.instanceId), inst.status, at);
        this.#add(at, inst.instanceId, levelOf(inst.status), `${prev?.status ?? '?'} → ${inst.status}`);
        return;
      case 'register': {
        if (inst === undefined) return;
        const key = instanceKey(inst.service, inst.instanceId);
        this.history.mark(key, inst.status, at);
        if (prev === undefined)
          this.#add(at, inst.instanceId, levelOf(inst.status), `registered (${inst.status}) at ${inst.url}`);
        else if (prev.url !== inst.url) this.#add(at, inst.instanceId, 'warn', `moved ${prev.url} → ${inst.url}`);
        else this.#add(at, inst.instanceId, 'info', `re-registered (epoch ${inst.epoch})`);
        return;
      }
      case 'deregister':
      case 'expire': {
        const service = c.service ?? prev?.service;
        const id = c.instanceId ?? prev?.instanceId;
        if (service === undefined || id === undefined) return;
        this.history.forget(instanceKey(service, id));
        if (c.type === 'expire') this.#add(at, id, 'bad', `expired (no heartbeat within its TTL)`);
        else this.#add(at, id, 'info', 'deregistered');
        return;
      }
      case 'resync':
        this.#add(at, 'registry', 'info', 'resynced from the store');
        return;
    }
  }

  #storeState(s: StoreState): void {
    const level = s.state === 'up' ? 'good' : s.state === 'down' ? 'bad' : 'warn';
    this.#add(this.#clock.now(), 'store', level, `store ${s.state}`);
  }

  #add(at: number, target: string, level: DashboardEvent['level'], message: string): void {
    this.events.add({ at, kind: 'registry', target, level, message });
    this.#onEvent();
  }
}
