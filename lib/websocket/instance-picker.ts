/**
 * Chooses the instance a new WebSocket connection is pinned to: the route's candidates minus
 * the ones that must not take traffic (DOWN, draining, expired, ejected — no panic mode), balanced by live
 * connections (least-connections by default). Connect failures eject an instance at once, so a
 * killed instance stops receiving new pins before the registry notices.
 */
import type { Clock } from '../clock.js';
import { routingChannel } from '../diagnostics.js';
import type { Logger } from '../logger.js';
import type { ServiceInstance } from '../registry/model.js';
import { createBalancer } from '../routing/balancers/index.js';
import { selectInstance } from '../routing/instance-selector.js';
import type { Balancer, InstanceHealthSignals, Selection } from '../routing/types.js';
import { OutlierDetector } from '../upstream/outlier-detector.js';
import type { ConnectionRegistry } from './connection-registry.js';
import type { WebSocketBalancerName } from './websocket-options.js';

/** What {@link InstancePicker} needs. */
export interface InstancePickerOptions {
  balancer: WebSocketBalancerName;
  connections: ConnectionRegistry;
  /** Extra passive health from elsewhere (the HTTP proxy's outlier detector). */
  signals: InstanceHealthSignals | undefined;
  clock: Clock;
  logger: Logger;
}

/**
 * @example
 * const picker = new InstancePicker({ balancer: 'least-connections', connections, signals: undefined, clock, logger });
 * const { instance } = picker.pick(table.instancesFor(match), 'chat');
 */
export class InstancePicker implements InstanceHealthSignals {
  readonly #balancer: Balancer;
  readonly #balancerName: WebSocketBalancerName;
  readonly #connections: ConnectionRegistry;
  readonly #outliers: OutlierDetector;
  readonly #extra: InstanceHealthSignals | undefined;

  constructor(options: InstancePickerOptions) {
    this.#balancer = createBalancer(options.balancer);
    this.#balancerName = options.balancer;
    this.#connections = options.connections;
    this.#extra = options.signals;
    this.#outliers = new OutlierDetector({ clock: options.clock, logger: options.logger });
  }

  isEjected(service: string, instanceId: string): boolean {
    return this.#outliers.isEjected(service, instanceId) || this.#extra?.isEjected(service, instanceId) === true;
  }

  isCircuitOpen(service: string, instanceId: string): boolean {
    return this.#extra?.isCircuitOpen?.(service, instanceId) === true;
  }

  /**
   * Picks among `candidates` of `service`, leaving out the ids in `skip` (instances that
   * already failed this connection attempt).
   */
  pick(candidates: readonly ServiceInstance[], service: string, skip?: ReadonlySet<string>): Selection {
    const pool = skip === undefined || skip.size === 0 ? candidates : candidates.filter((c) => !skip.has(c.instanceId));
    const sel = selectInstance(pool, {
      balancer: this.#balancer,
      ctx: { load: this.#connections.loadOf(service) },
      signals: this,
      service,
      // A pin lasts the connection's life, and connections on a DOWN instance are closed at once:
      // panic routing onto DOWN or ejected instances would only pin clients to what is evicted next.
      panicThreshold: 0,
    });
    if (routingChannel.hasSubscribers) {
      routingChannel.publish({
        type: 'ws-pin',
        service,
        instanceId: sel.instance?.instanceId,
        excluded: sel.excluded,
        panic: sel.panic,
      });
    }
    return sel;
  }

  /** What {@link pick} would choose now, without moving the live balancer or announcing a pin (for explain). */
  preview(candidates: readonly ServiceInstance[], service: string): Selection {
    return selectInstance(candidates, {
      balancer: createBalancer(this.#balancerName),
      ctx: { load: this.#connections.loadOf(service) },
      signals: this,
      service,
      panicThreshold: 0,
    });
  }

  /** The upstream answered the handshake: its failure streak ends. */
  recordSuccess(service: string, instanceId: string): void {
    this.#outliers.recordSuccess(service, instanceId);
  }

  /** Connecting or the handshake failed; `connect` when nothing reached the instance. */
  recordFailure(service: string, instanceId: string, connect: boolean): void {
    this.#outliers.recordFailure(service, instanceId, connect);
  }

  /** Forgets an instance that left the registry. */
  forget(service: string, instanceId: string): void {
    this.#outliers.forget(service, instanceId);
  }
}
