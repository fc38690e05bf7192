/**
 * Leases in etcd for the health checker's "one gateway probes each instance" rule: the key
 * `<prefix><key>` holds the holder's name and lives on an etcd lease of the TTL (rounded up to
 * whole seconds; etcd 3.4 grants at least ~2 s). Taken with a transaction that succeeds only when
 * the key does not exist, renewed by the holder with a transaction that compares the value, and
 * every replaced lease is revoked so none accumulate. The client is injected and not closed.
 */
import type { Etcd3 } from 'etcd3';
import { leaseSeconds } from '../registry/backends/etcd-values.js';
import type { CheckLease } from './check-lease.js';

/**
 * @example new HealthChecker({ registry, lease: new EtcdCheckLease(createEtcdClient(['127.0.0.1:2379'])) })
 */
export class EtcdCheckLease implements CheckLease {
  readonly #client: Etcd3;
  readonly #prefix: string;
  /** The etcd lease behind each (key, holder) this process holds, to revoke it when replaced. */
  readonly #held = new Map<string, string>();

  /** @param options.prefix @default '/fleetgate/hc/' */
  constructor(client: Etcd3, options: { prefix?: string } = {}) {
    this.#client = client;
    this.#prefix = options.prefix ?? '/fleetgate/hc/';
  }

  async tryAcquire(key: string, holder: string, ttlMs: number): Promise<boolean> {
    const k = Buffer.from(this.#prefix + key);
    const value = Buffer.from(holder);
    const grant = await this.#client.leaseClient.leaseGrant({ TTL: leaseSeconds(ttlMs) });
    const put = [{ request_put: { key: k, value, lease: grant.ID } }];
    try {
      const free = await this.#client.kv.txn({
        compare: [{ key: k, target: 'Create', result: 'Equal', create_revision: 0 }],
        success: put,
      });
      const mine =
        free.succeeded ||
        (
          await this.#client.kv.txn({
            compare: [{ key: k, target: 'Value', result: 'Equal', value }],
            success: put,
          })
        ).succeeded;
      if (!mine) {
        this.#revoke(grant.ID);
        return false;
      }
      const previous = this.#held.get(heldKey(key, holder));
      this.#held.set(heldKey(key, holder), grant.ID);
      if (previous !== undefined && previous !== grant.ID) this.#revoke(previous);
      return true;
    } catch (err) {
      this.#revoke(grant.ID);
      throw err;
    }
  }

  async release(key: string, holder: string): Promise<void> {
    const k = Buffer.from(this.#prefix + key);
    const res = await this.#client.kv.txn({
      compare: [{ key: k, target: 'Value', result: 'Equal', value: Buffer.from(holder) }],
      success: [{ request_delete_range: { key: k } }],
    });
    const lease = this.#held.get(heldKey(key, holder));
    this.#held.delete(heldKey(key, holder));
    // Only the holder's own lease goes; a non-holder's release changes nothing.
    if (res.succeeded && lease !== undefined) this.#revoke(lease);
  }

  /** Best effort: a lease that cannot be revoked expires by itself. */
  #revoke(id: string): void {
    void this.#client.leaseClient.leaseRevoke({ ID: id }).catch(() => {});
  }
}

function heldKey(key: string, holder: string): string {
  return `${key}\u0000${holder}`;
}
