/**
 * Instance records in etcd: reads, and compare-and-swap writes and deletes on a key's
 * `mod_revision`, so concurrent gateways never overwrite each other's change unseen. Reads and
 * writes go out in batches (etcd-batcher.ts).
 */
import { type Etcd3, EtcdLeaseInvalidError, type IKeyValue } from 'etcd3';
import { FleetgateError } from '../../errors.js';
import { EtcdBatcher } from './etcd-batcher.js';
import { decodeEnvelope, type EtcdEnvelope, encodeEnvelope } from './etcd-values.js';

/** A record as read: the raw key-value (for its revisions) and its decoded value. */
export interface CurrentRecord {
  kv: IKeyValue;
  env: EtcdEnvelope;
}

/** The lease a write may put its value on, and the clock reading taken once it was known. */
export interface Grant {
  /** The lease id: this gateway's bucket for the record's TTL (etcd-lease-buckets.ts). */
  id: string;
  /** `clock.now()` after the read and the lease: the time the write decides with. */
  now: number;
}

/** Decides a write from the current record: the value to put (none: just return `result`). */
export type CasDecide<T> = (
  cur: CurrentRecord | undefined,
  grant: Grant | undefined,
) => Promise<{ put?: EtcdEnvelope; result: T }>;

/** How {@link EtcdRecords.cas} writes. */
export interface CasOptions {
  /** The lease a put goes on (read in parallel with the record). */
  leaseFor?: () => Promise<string>;
  /** A lease etcd no longer knows: the caller drops it, the write is decided again on a fresh one. */
  leaseLost?: (id: string) => void;
  clock: { now(): number };
  /** Told of every value written, with its `mod_revision` (the expiry sweep deletes only that revision). */
  onWritten?: (key: string, put: EtcdEnvelope, revision: string) => void;
}

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
  readonly #batcher: EtcdBatcher;

  constructor(client: Etcd3, maxAttempts: number) {
    this.#client = client;
    this.#maxAttempts = maxAttempts;
    this.#batcher = new EtcdBatcher(client);
  }

  /** The record at `key`, or `undefined` (absent or not a record). */
  async read(key: string): Promise<CurrentRecord | undefined> {
    const kv = await this.#batcher.read(Buffer.from(key));
    const env = decodeEnvelope(kv?.value);
    return kv === undefined || env === undefined ? undefined : { kv, env };
  }

  /** Read, decide, write-if-unchanged; retried (re-read, re-decided) when another write won. */
  async cas<T>(key: string, decide: CasDecide<T>, o: CasOptions): Promise<T> {
    const keyBuf = Buffer.from(key);
    for (let attempt = 1; ; attempt++) {
      const [cur, leaseId] = await Promise.all([this.read(key), o.leaseFor?.()]);
      const grant = leaseId === undefined ? undefined : { id: leaseId, now: o.clock.now() };
      const decision = await decide(cur, grant);
      if (decision.put === undefined) return decision.result;
      const put = decision.put;
      const res = await this.#batcher
        .write(
          cur === undefined
            ? { key: keyBuf, target: 'Create', result: 'Equal', create_revision: 0 }
            : { key: keyBuf, target: 'Mod', result: 'Equal', mod_revision: cur.kv.mod_revision },
          { key: keyBuf, value: encodeEnvelope(put), lease: put.lease },
        )
        .catch((err: unknown) => {
          // The lease ended since (a lost bucket, or the record's own lease expired): decide again.
          if (err instanceof EtcdLeaseInvalidError) {
            o.leaseLost?.(put.lease);
            return undefined;
          }
          throw err;
        });
      if (res?.succeeded) {
        o.onWritten?.(key, put, res.revision);
        return decision.result;
      }
      if (attempt >= this.#maxAttempts) throw gaveUp(key, attempt);
    }
  }

  /** Deletes `key` if it is still at `revision` (a tombstone just written, an expired record); true when it did. */
  async deleteAt(key: string, revision: string): Promise<boolean> {
    const keyBuf = Buffer.from(key);
    const res = await this.#client.kv.txn({
      compare: [{ key: keyBuf, target: 'Mod', result: 'Equal', mod_revision: revision }],
      success: [{ request_delete_range: { key: keyBuf } }],
    });
    return res.succeeded;
  }
}
