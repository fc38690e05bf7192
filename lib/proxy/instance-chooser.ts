/**
 * The proxy's balancer decisions: one shared selection context, the sticky key of the request
 * being placed, and (for least-connections only) the attempts in flight per instance.
 */
import type { ServiceInstance } from '../registry/model.js';
import { type SelectOptions, selectInstance } from '../routing/instance-selector.js';
import type { Balancer, InstanceHealthSignals, PickContext, Selection } from '../routing/types.js';

/**
 * Chooses instances for one proxy.
 * @example
 * const chooser = new InstanceChooser(createBalancer('least-connections'), signals, 0);
 * const { instance } = chooser.choose('orders', candidates, undefined);
 */
export class InstanceChooser {
  /** In-flight attempts per instance id, kept only for the least-connections balancer. */
  readonly #load: Map<string, number> | undefined;
  readonly #ctx: PickContext;
  /** Reused for every selection: selectInstance is synchronous, so one object serves all requests. */
  readonly #select: SelectOptions;

  constructor(balancer: Balancer, signals: InstanceHealthSignals, panicThreshold: number) {
    const load = balancer.name === 'least-connections' ? new Map<string, number>() : undefined;
    this.#load = load;
    this.#ctx = load === undefined ? {} : { load: (id) => load.get(id) ?? 0 };
    this.#select = { balancer, ctx: this.#ctx, signals, service: '', panicThreshold };
  }

  /**
   * One balancer decision. The shared select/ctx objects are filled right before the synchronous
   * pick, so nothing of one request (its sticky key) is left for another request's retry to read.
   */
  choose(service: string, candidates: readonly ServiceInstance[], stickyKey: string | undefined): Selection {
    const select = this.#select;
    select.service = service;
    this.#ctx.stickyKey = stickyKey;
    return selectInstance(candidates, select);
  }

  /** An attempt on `instanceId` started (counted for least-connections). */
  attemptStarted(instanceId: string): void {
    const load = this.#load;
    if (load !== undefined) load.set(instanceId, (load.get(instanceId) ?? 0) + 1);
  }

  /** An attempt on `instanceId` ended. */
  attemptEnded(instanceId: string): void {
    const load = this.#load;
    if (load === undefined) return;
    const n = load.get(instanceId) ?? 0;
    if (n <= 1) load.delete(instanceId);
    else load.set(instanceId, n - 1);
  }
}
