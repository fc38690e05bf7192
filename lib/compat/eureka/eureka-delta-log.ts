/**
 * The changes `GET /eureka/apps/delta` answers with: each registry change of the last
 * `retentionMs` (Eureka: 3 minutes) as an action on one instance.
 *
 * What it keeps is what the answer needs. An added or modified instance is shown as it is now,
 * as Eureka's own server does (its delta reads the lease's current holder), so the log keeps only
 * its key, not the instance: at 10,000 registrations the instances it held outlived the cache's
 * newer versions for 3 minutes after each heartbeat. A removed instance is no longer in the
 * registry, so the log keeps its last version.
 */
import type { Clock } from '../../clock.js';
import type { ServiceInstance } from '../../registry/model.js';
import type { RegistryChange } from '../../registry/registry-api.js';
import type { EurekaAction } from './eureka-json.js';

/** One change kept; `removed` only for `DELETED`. */
interface DeltaEntry {
  readonly at: number;
  readonly action: EurekaAction;
  readonly service: string;
  readonly instanceId: string;
  readonly removed: ServiceInstance | undefined;
}

/** One instance of the delta answer and its action. */
export interface DeltaItem {
  instance: ServiceInstance;
  action: EurekaAction;
}

/** The Eureka action of a registry change, or `undefined` when Eureka has none (heartbeats, resync). */
export function eurekaActionOf(change: RegistryChange): EurekaAction | undefined {
  switch (change.type) {
    case 'register':
      return change.previous === undefined ? 'ADDED' : 'MODIFIED';
    case 'status':
      return 'MODIFIED';
    case 'deregister':
    case 'expire':
      return 'DELETED';
    default:
      return undefined;
  }
}

/**
 * The recent changes, oldest first.
 * @example
 * const log = new EurekaDeltaLog(180_000, clock);
 * registry.on('change', (c) => log.record(c));
 * log.recent((s, id) => registry.get(s, id)); // [{ instance, action: 'ADDED' }, …]
 */
export class EurekaDeltaLog {
  readonly #retentionMs: number;
  readonly #clock: Clock;
  #entries: DeltaEntry[] = [];

  constructor(retentionMs: number, clock: Clock) {
    this.#retentionMs = retentionMs;
    this.#clock = clock;
  }

  /** Number of changes held (for tests). */
  get size(): number {
    return this.#entries.length;
  }

  /** Records `change` if Eureka has an action for it; returns whether it did. */
  record(change: RegistryChange): boolean {
    const action = eurekaActionOf(change);
    const instance = change.instance ?? change.previous;
    if (action === undefined || instance === undefined) return false;
    this.#entries.push({
      at: this.#clock.now(),
      action,
      service: instance.service,
      instanceId: instance.instanceId,
      removed: action === 'DELETED' ? instance : undefined,
    });
    this.#prune();
    return true;
  }

  /**
   * The latest change of each instance within the retention, in the order of those changes. An
   * added or modified instance is shown as `live` finds it now; one `live` no longer finds is left
   * out (its removal is recorded, or it is on its way).
   */
  recent(live: (service: string, instanceId: string) => ServiceInstance | undefined): DeltaItem[] {
    this.#prune();
    const latest = new Map<string, DeltaEntry>();
    for (const e of this.#entries) {
      const key = `${e.service}\u0000${e.instanceId}`;
      latest.delete(key);
      latest.set(key, e);
    }
    const out: DeltaItem[] = [];
    for (const e of latest.values()) {
      const instance = e.removed ?? live(e.service, e.instanceId);
      if (instance !== undefined) out.push({ instance, action: e.action });
    }
    return out;
  }

  #prune(): void {
    const cutoff = this.#clock.now() - this.#retentionMs;
    let drop = 0;
    while (drop < this.#entries.length && this.#entries[drop]!.at < cutoff) drop++;
    if (drop > 0) this.#entries.splice(0, drop);
  }
}
