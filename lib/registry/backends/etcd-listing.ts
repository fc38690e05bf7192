/**
 * The full listing of an etcd registry: pages of `pageSize` keys, all read at the revision of
 * the first page, so one consistent snapshot comes back whatever its size (10,000 instances are
 * ~6 MB, more than gRPC's 4 MB reply limit in one read).
 */
import type { Etcd3 } from 'etcd3';
import type { ServiceInstance } from '../model.js';
import { decodeEnvelope, type EtcdEnvelope, prefixEnd } from './etcd-values.js';

/** Whether a stored record is a live instance at `now`: not a tombstone, not expired. */
export function isLiveRecord(env: EtcdEnvelope, now: number): boolean {
  return env.event !== 'deregister' && env.instance.expiresAt > now;
}

/**
 * Every live instance under `prefix` (of `service` only, when given), read page by page at one revision.
 * @example const all = await listLive(client, '/fleetgate/services/', undefined, 1000, Date.now);
 */
export async function listLive(
  client: Etcd3,
  prefix: string,
  service: string | undefined,
  pageSize: number,
  now: () => number,
): Promise<ServiceInstance[]> {
  const end = prefixEnd(prefix);
  const out: ServiceInstance[] = [];
  let from = Buffer.from(prefix);
  let revision: string | undefined;
  for (;;) {
    const res = await client.kv.range({
      key: from,
      range_end: end,
      limit: pageSize,
      ...(revision === undefined ? {} : { revision }),
    });
    revision ??= res.header.revision;
    const at = now();
    for (const kv of res.kvs) {
      const env = decodeEnvelope(kv.value);
      if (env === undefined || !isLiveRecord(env, at)) continue;
      if (service !== undefined && env.instance.service !== service) continue;
      out.push(env.instance);
    }
    const last = res.kvs.at(-1);
    if (!res.more || last === undefined) return out;
    from = Buffer.concat([last.key, ZERO_BYTE]); // the next key after the last one read
  }
}

const ZERO_BYTE = Buffer.from([0]);
