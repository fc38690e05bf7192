/** Sticky: the same key (cookie or header value) keeps reaching the same instance. */
import type { ServiceInstance } from '../../registry/model.js';
import type { Balancer, PickContext } from '../types.js';
import { RoundRobinBalancer } from './round-robin.js';
import { weightOf } from './weighted.js';

/**
 * Rendezvous (highest-random-weight) hashing of `ctx.stickyKey` over the candidates: a key stays
 * on its instance while that instance is a candidate, and when one leaves only its keys move
 * (spread over the rest); when one joins it takes only about 1/N of the keys. Weights bias the
 * share (weighted rendezvous); weight 0 never wins unless all are 0. Without a key: round-robin.
 * @example
 * const s = new StickyBalancer();
 * s.pick(instances, { stickyKey: req.headers['x-session'] as string });
 */
export class StickyBalancer implements Balancer {
  readonly name = 'sticky' as const;
  readonly #fallback = new RoundRobinBalancer();

  pick(candidates: readonly ServiceInstance[], ctx: PickContext): ServiceInstance | undefined {
    const key = ctx.stickyKey;
    if (key === undefined || key === '' || candidates.length <= 1) return this.#fallback.pick(candidates);
    // Feeding a 0 separator after the key keeps ("ab","c") and ("a","bc") apart.
    const keyState = Math.imul(fnv1a(key, FNV_OFFSET), FNV_PRIME) >>> 0;
    let allZero = true;
    for (const inst of candidates) if (weightOf(inst) > 0) allZero = false;
    let best: ServiceInstance | undefined;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (const inst of candidates) {
      const w = allZero ? 1 : weightOf(inst);
      if (w === 0) continue;
      const h = fmix32(fnv1a(inst.instanceId, keyState));
      const u = (h + 0.5) / 4294967296;
      const score = w / -Math.log(u);
      if (score > bestScore || (score === bestScore && best !== undefined && inst.instanceId < best.instanceId)) {
        bestScore = score;
        best = inst;
      }
    }
    return best;
  }
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnv1a(s: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** MurmurHash3's finaliser: FNV alone mixes the last characters poorly. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
