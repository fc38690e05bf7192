/**
 * Instance ids from other registries (Eureka `host:app:8080`, Consul ids) made into fleetgate
 * instance ids, deterministically, so later calls that name the foreign id find the instance.
 */
import { createHash } from 'node:crypto';
import { isValidName } from '../registry/http/registration-schema.js';

/** fleetgate instance ids are at most this long (the registration API's default). */
const MAX_ID = 64;

/**
 * The fleetgate instance id of a foreign instance id. Ids such as Eureka's `host:app:8080` hold
 * characters fleetgate ids do not; those are replaced and a hash of the original keeps ids apart.
 * @example fleetgateInstanceId('host:app:8080') // 'host-app-8080-3f2a…'
 */
export function fleetgateInstanceId(foreignId: string): string {
  if (isValidName(foreignId, MAX_ID)) return foreignId;
  const safe = foreignId
    .replace(/[^a-z0-9._-]+/gi, '-')
    .replace(/^[^a-z0-9]+/i, '')
    .slice(0, 40);
  const hash = createHash('sha256').update(foreignId).digest('hex').slice(0, 12);
  return safe === '' ? `id-${hash}` : `${safe}-${hash}`;
}
