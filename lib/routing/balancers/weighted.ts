/** Weighted: smooth weighted round-robin (nginx), for canary and capacity splits. */
import type { ServiceInstance } from '../../registry/model.js';
import type { Balancer, PickContext } from '../types.js';

/**
 * Smooth weighted round-robin by each instance's `weight`: deterministic and evenly interleaved,
 * so weights 9 and 1 give exactly 900/100 over 1,000 picks and never ten in a row to one side.
 * Weight 0 means never, unless every candidate has weight 0 (then they share equally);
 * negative or non-finite weights count as 0 and 1 respectively.
 * @example
 * const w = new WeightedBalancer();
 * w.pick([{ ...a, weight: 90 }, { ...b, weight: 10 }], {});
 */
export class WeightedBalancer implements Balancer {
  readonly name = 'weighted' as const;
  /** Current weights per service, per instance id. */
  readonly #current = new Map<string, Map<string, number>>();

  pick(candidates: readonly ServiceInstance[], _ctx?: PickContext): ServiceInstance | undefined {
    if (candidates.length <= 1) return candidates[0];
    const service = candidates[0]!.service;
    let current = this.#current.get(service);
    if (current === undefined) {
      current = new Map();
      this.#current.set(service, current);
    }
    let allZero = true;
    for (const inst of candidates) {
      if (weightOf(inst) > 0) {
        allZero = false;
        break;
      }
    }
    let total = 0;
    let best: ServiceInstance | undefined;
    let bestWeight = Number.NEGATIVE_INFINITY;
    for (const inst of candidates) {
      const w = allZero ? 1 : weightOf(inst);
      if (w === 0) continue;
      const cw = (current.get(inst.instanceId) ?? 0) + w;
      current.set(inst.instanceId, cw);
      total += w;
      if (cw > bestWeight) {
        bestWeight = cw;
        best = inst;
      }
    }
    current.set(best!.instanceId, bestWeight - total);
    // Instances that left the candidate set would otherwise keep their state forever.
    if (current.size > candidates.length) {
      const ids = new Set(candidates.map((c) => c.instanceId));
      for (const id of current.keys()) if (!ids.has(id)) current.delete(id);
    }
    return best;
  }
}

/** An instance's usable weight. */
export function weightOf(inst: ServiceInstance): number {
  const w = inst.weight;
  if (typeof w !== 'number' || Number.isNaN(w)) return 1;
  if (w === Number.POSITIVE_INFINITY) return 1;
  return Math.max(w, 0);
}
