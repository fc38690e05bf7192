/** Round-robin: each service's candidates in turn. The default for HTTP. */
import type { ServiceInstance } from '../../registry/model.js';
import type { Balancer, PickContext } from '../types.js';

// Wrapping keeps the counter a small integer; the skew at the wrap is one pick in two billion.
const WRAP = 0x7fffffff;

/**
 * Picks candidates in turn, with one counter per service (taken from the first candidate), so
 * N requests over N instances reach each exactly once.
 * @example
 * const rr = new RoundRobinBalancer();
 * rr.pick(instances, {});
 */
export class RoundRobinBalancer implements Balancer {
  readonly name = 'round-robin' as const;
  readonly #next = new Map<string, number>();

  pick(candidates: readonly ServiceInstance[], _ctx?: PickContext): ServiceInstance | undefined {
    const n = candidates.length;
    if (n <= 1) return candidates[0];
    const service = candidates[0]!.service;
    const i = this.#next.get(service) ?? 0;
    this.#next.set(service, (i + 1) % WRAP);
    return candidates[i % n];
  }
}
