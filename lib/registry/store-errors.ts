/** How registry store failures are described and wrapped. */
import { FleetgateError } from '../errors.js';

/** A one-line description of any thrown value. */
export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Wraps a store failure (a non-Fleetgate error from a backend) as `ERR_FG_STORE_UNAVAILABLE`.
 * @example throw storeUnavailableError('REDIS', err);
 */
export function storeUnavailableError(type: string, err: unknown): FleetgateError {
  return new FleetgateError(
    'ERR_FG_STORE_UNAVAILABLE',
    `the ${type} registry store is unavailable: ${describeError(err)}`,
    {
      cause: err,
    },
  );
}
