/** The balancer factory. One file per strategy in this folder. */
import { FleetgateError } from '../../errors.js';
import type { Balancer } from '../types.js';
import { LeastConnectionsBalancer } from './least-connections.js';
import { RoundRobinBalancer } from './round-robin.js';
import { StickyBalancer } from './sticky.js';
import { type VersionWeights, WeightedBalancer } from './weighted.js';

/** A balancer strategy's name. */
export type BalancerName = Balancer['name'];

/** Every strategy, for validation and help texts. */
export const BALANCER_NAMES: readonly BalancerName[] = Object.freeze([
  'round-robin',
  'least-connections',
  'weighted',
  'sticky',
]);

/**
 * A new balancer of the named strategy, with its own state; `versionWeights` applies to
 * `'weighted'`. Throws `ERR_FG_INVALID_CONFIG` for an unknown name.
 * @example const balancer = createBalancer('weighted');
 */
export function createBalancer(name: BalancerName, versionWeights?: VersionWeights): Balancer {
  switch (name) {
    case 'round-robin':
      return new RoundRobinBalancer();
    case 'least-connections':
      return new LeastConnectionsBalancer();
    case 'weighted':
      return new WeightedBalancer(versionWeights);
    case 'sticky':
      return new StickyBalancer();
    default:
      throw new FleetgateError(
        'ERR_FG_INVALID_CONFIG',
        `unknown balancer "${String(name)}"; expected one of ${BALANCER_NAMES.join(', ')}`,
        { details: { balancer: name } },
      );
  }
}

export { LeastConnectionsBalancer } from './least-connections.js';
export { RoundRobinBalancer } from './round-robin.js';
export { StickyBalancer } from './sticky.js';
export { type VersionWeights, WeightedBalancer } from './weighted.js';
