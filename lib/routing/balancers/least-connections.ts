/** Least-connections: the candidate with the fewest live connections. The default for WebSocket. */
import type { ServiceInstance } from '../../registry/model.js';
import type { Balancer, PickContext } from '../types.js';
import { RoundRobinBalancer } from './round-robin.js';

/**
 * Picks the candidate with the lowest `ctx.load(instanceId)`; ties go round-robin so equal loads
 * (e.g. all idle) still spread. Without `ctx.load` it is plain round-robin.
 * @example
 * const lc = new LeastConnectionsBalancer();
 * lc.pick(instances, { load: (id) => inflight.get(id) ?? 0 });
 */
export class LeastConnectionsBalancer implements Balancer {
  readonly name = 'least-connections' as const;
  readonly #tieBreak = new RoundRobinBalancer();

  pick(candidates: readonly ServiceInstance[], ctx: PickContext): ServiceInstance | undefined {
    const load = ctx.load;
    if (load === undefined || candidates.length <= 1) return this.#tieBreak.pick(candidates);
    let min = Number.POSITIVE_INFINITY;
    let ties: ServiceInstance[] = [];
    for (const inst of candidates) {
      const l = load(inst.instanceId);
      if (l < min) {
        min = l;
        ties = [inst];
      } else if (l === min) {
        ties.push(inst);
      }
    }
    // A load function answering NaN for everyone leaves no minimum: spread instead of failing.
    return this.#tieBreak.pick(ties.length > 0 ? ties : candidates);
  }
}
