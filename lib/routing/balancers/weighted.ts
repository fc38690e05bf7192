/** Weighted: smooth weighted round-robin (nginx), for canary and capacity splits. */
import type { ServiceInstance } from '../../registry/model.js';
import type { Balancer, PickContext } from '../types.js';

/**
 * Traffic shares by version, per service: `{ comments: { '2.0.0': 5, '1.4.2': 95 } }` sends 5 % of
 * `comments` to its 2.0.0 instances, however many there are of each. Versions a service's entry
 * does not list (and instances without a version) get no traffic while a listed one has an
 * instance; services without an entry are split by instance `weight`.
 */
export type VersionWeights = Readonly<Record<string, Readonly<Record<string, number>>>>;

/**
 * Smooth weighted round-robin by each instance's `weight`: deterministic and evenly interleaved,
 * so weights 9 and 1 give exactly 900/100 over 1,000 picks and never ten in a row to one side.
 * Weight 0 means never, unless every candidate has weight 0 (then they share equally);
 * negative or non-finite weights count as 0 and 1 respectively. With {@link VersionWeights} for
 * the service, an instance's weight is its version's share, divided among that version's
 * candidates by their own weights.
 * @example
 * const w = new WeightedBalancer();
 * w.pick([{ ...a, weight: 90 }, { ...b, weight: 10 }], {});
 * new WeightedBalancer({ comments: { '2.0.0': 5, '1.4.2': 95 } }); // canary by version
 */
export class WeightedBalancer implements Balancer {
  readonly name = 'weighted' as const;
  /** Current weights per service, per instance id. */
  readonly #current = new Map<string, Map<string, number>>();
  readonly #versions: VersionWeights;

  constructor(versionWeights: VersionWeights = {}) {
    this.#versions = versionWeights;
  }

  pick(candidates: readonly ServiceInstance[], _ctx?: PickContext): ServiceInstance | undefined {
    if (candidates.length <= 1) return candidates[0];
    const service = candidates[0]!.service;
    let current = this.#current.get(service);
    if (current === undefined) {
      current = new Map();
      this.#current.set(service, current);
    }
    const shares = Object.hasOwn(this.#versions, service) ? this.#versions[service] : undefined;
    const weight = shares === undefined ? weightOf : versionWeigher(shares, candidates);
    let allZero = true;
    for (const inst of candidates) {
      if (weight(inst) > 0) {
        allZero = false;
        break;
      }
    }
    let total = 0;
    let best: ServiceInstance | undefined;
    let bestWeight = Number.NEGATIVE_INFINITY;
    for (const inst of candidates) {
      const w = allZero ? 1 : weight(inst);
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

/** Weights from version shares: each version's share split among its candidates by `weight`. */
function versionWeigher(
  shares: Readonly<Record<string, number>>,
  candidates: readonly ServiceInstance[],
): (inst: ServiceInstance) => number {
  const perVersion = new Map<string, number>();
  for (const inst of candidates) {
    if (inst.version !== undefined) perVersion.set(inst.version, (perVersion.get(inst.version) ?? 0) + weightOf(inst));
  }
  return (inst) => {
    if (inst.version === undefined || !Object.hasOwn(shares, inst.version)) return 0;
    const sum = perVersion.get(inst.version)!;
    return sum === 0 ? 0 : (Math.max(shares[inst.version]!, 0) * weightOf(inst)) / sum;
  };
}

/** An instance's usable weight. */
export function weightOf(inst: ServiceInstance): number {
  const w = inst.weight;
  if (typeof w !== 'number' || Number.isNaN(w)) return 1;
  if (w === Number.POSITIVE_INFINITY) return 1;
  return Math.max(w, 0);
}
