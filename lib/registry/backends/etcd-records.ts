/**
 * Instance records in etcd: reads, lease grants, and compare-and-swap writes on a key's
 * `mod_revision`, so concurrent gateways never overwrite each other's change unseen.
 */
import { type Etcd3, EtcdLeaseInvalidError, type IKeyValue } from 'etcd3';
import { FleetgateError } from '../../errors.js';
import type { LeaseOptions } from '../model.js';
import { decodeEnvelope, type EtcdEnvelope, encodeEnvelope, leaseSeconds } from './etcd-values.js';

/** A record as read: the raw key-value (for its revisions) and its decoded value. */
export interface CurrentRecord {
  kv: IKeyValue;
  env: EtcdEnvelope;
}

/** A lease granted for a write, and the clock reading taken just before asking for it. */
export interface Grant {
  id: string;
  /** The granted TTL (etcd may raise a short one to its minimum). */
  ttlMs: number;
  /** `clock.now()` before the grant: `now + ttlMs` never outlives the lease. */
  now: number;
}

/**
 * Decides a write from the current record: the value to put (none: just return `result`). With
 * a `grant`, the value may be put on it; a grant not used, or used by a write that lost a race,
 * is revoked; when it replaces the record's lease, the old lease is revoked.
 */
export type CasDecide<T> = (
  cur: CurrentRecord | undefined,
  grant: Grant | undefined,
) => Promise<{ put?: EtcdEnvelope; result: T }>;

/**
 * A grant that took longer than this share of the TTL is not used. The lease recorded is then
 * short by at most a quarter of the TTL, so it still outlives the next heartbeat (due at a third).
 */
const STALE_GRANT_SHARE = 0.25;

function gaveUp(key: string, attempts: number): FleetgateError {
  return new FleetgateError(
    'ERR_FG_STORE_UNAVAILABLE',
    `etcd: ${key} kept changing or answering late; gave up after ${attempts} tries`,
  );
}

/** Reads and CAS writes of instance records. */
export class EtcdRecords {
  readonly #client: Etcd3;
  readonly #maxAttempts: number;
  /** Revocations of replaced leases still in flight. */
  readonly #revoking = new Set<Promise<unknown>>();

  constructor(client: Etcd3, maxAttempts: number) {
    this.#client = client;
    this.#maxAttempts = maxAttempts;
  }

  /** The record at `key`, or `undefined` (absent or not a record). */
  async read(key: string): Promise<CurrentRecord | undefined> {
    const res = await this.#client.kv.range({ key: Buffer.from(key) });
    const kv = res.kvs[0];
    const env = decodeEnvelope(kv?.value);
    return kv === undefined || env === undefined ? undefined : { kv, env };
  }

  /** Grants a lease for `lease.ttlMs` (whole seconds, rounded up). */
  async grant(lease: LeaseOptions, now: number): Promise<Grant> {
    const res = await this.#client.leaseClient.leaseGrant({ TTL: leaseSeconds(lease.ttlMs) });
    return { id: res.ID, ttlMs: Number(res.TTL) * 1000, now };
  }

  /**
   * Read, decide, write-if-unchanged; retried (re-read, re-decided) when another write won.
   * With `lease`, every attempt grants a lease in parallel with its read (one round trip less).
   */
  async cas<T>(key: string, decide: CasDecide<T>, lease?: LeaseOptions, clock?: { now(): number }): Promise<T> {
    const keyBuf = Buffer.from(key);
    for (let attempt = 1; ; attempt++) {
      const granting = lease === undefined ? undefined : this.grant(lease, clock?.now() ?? Date.now());
      const [read, granted] = await Promise.allSettled([this.read(key), granting]);
      const grant = granted.status === 'fulfilled' ? granted.value : undefined;
      if (read.status === 'rejected' || granted.status === 'rejected') {
        if (grant !== undefined) this.revokeLater(grant.id);
        throw read.status === 'rejected' ? read.reason : (granted as PromiseRejectedResult).reason;
      }
      if (grant !== undefined && (clock?.now() ?? Date.now()) - grant.now > lease!.ttlMs * STALE_GRANT_SHARE) {
        // The grant waited (etcd was unreachable until just now): `grant.now + ttlMs` would end
        // well before the real lease and the instance would look expired early. Start over.
        this.revokeLater(grant.id);
        if (attempt >= this.#maxAttempts) throw gaveUp(key, attempt);
        continue;
      }
      const cur = read.value;
      let decision: Awaited<ReturnType<CasDecide<T>>>;
      try {
        decision = await decide(cur, grant);
      } catch (err) {
        if (grant !== undefined) this.revokeLater(grant.id);
        throw err;
      }
      const usesGrant = grant !== undefined && decision.put?.lease === grant.id;
      if (grant !== undefined && !usesGrant) this.revokeLater(grant.id);
      if (decision.put === undefined) return decision.result;
      const succeeded = await this.#client.kv
        .txn({
          compare: [
            cur === undefined
              ? { key: keyBuf, target: 'Create', result: 'Equal', create_revision: 0 }
              : { key: keyBuf, target: 'Mod', result: 'Equal', mod_revision: cur.kv.mod_revision },
          ],
          success: [{ request_put: { key: keyBuf, value: encodeEnvelope(decision.put), lease: decision.put.lease } }],
        })
        .then(
          (res) => res.succeeded,
          (err: unknown) => {
            // The kept lease expired since we read the key: the key is going too; decide again.
            if (err instanceof EtcdLeaseInvalidError) return false;
            if (usesGrant) this.revokeLater(grant.id);
            throw err;
          },
        );
      if (succeeded) {
        // The replaced lease no longer holds the key; revoke it so etcd does not keep it around.
        if (usesGrant && cur !== undefined && cur.env.lease !== grant.id) this.revokeLater(cur.env.lease);
        return decision.result;
      }
      if (usesGrant) this.revokeLater(grant.id);
      if (attempt >= this.#maxAttempts) throw gaveUp(key, attempt);
    }
  }

  /** Revokes a lease in the background (a lease already gone is fine). */
  revokeLater(lease: string): void {
    const p = this.#client.leaseClient
      .leaseRevoke({ ID: lease })
      .catch(() => {})
      .finally(() => this.#revoking.delete(p));
    this.#revoking.add(p);
  }

  /** Resolves when the background revocations have settled. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#revoking]);
  }
}
