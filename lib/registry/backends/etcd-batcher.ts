/**
 * Reads and guarded writes of instance records, sent to etcd in batches: what the backend asks
 * for within one turn of the event loop goes out as one transaction (up to {@link MAX_OPS}
 * operations), not one gRPC call each. Under load (10,000 instances heartbeating) a gRPC call
 * costs the gateway more CPU than the work it carries.
 *
 * Writes are batched optimistically: the transaction compares every write's key and applies all
 * of them when all compares hold. When one does not (another gateway changed a key), each write
 * of that batch is sent again alone, so each learns its own outcome. A batch never holds one key
 * twice (etcd refuses that): a second write of a key goes into the next batch.
 */
import type { Etcd3, ICompare, IKeyValue, IPutRequest } from 'etcd3';

/** etcd's default limit on the operations of one transaction is 128. */
const MAX_OPS = 100;

/** The outcome of one guarded write. */
export interface WriteOutcome {
  succeeded: boolean;
  /** The revision of the transaction (the key's new `mod_revision` when it succeeded). */
  revision: string;
}

interface PendingRead {
  key: Buffer;
  resolve: (kv: IKeyValue | undefined) => void;
  reject: (err: unknown) => void;
}

interface PendingWrite {
  compare: ICompare;
  put: IPutRequest;
  resolve: (outcome: WriteOutcome) => void;
  reject: (err: unknown) => void;
}

/** Batches reads and guarded puts of single keys. */
export class EtcdBatcher {
  readonly #client: Etcd3;
  #reads: PendingRead[] = [];
  #writes: PendingWrite[] = [];
  #scheduled = false;

  constructor(client: Etcd3) {
    this.#client = client;
  }

  /** The key-value at `key`, or undefined. */
  read(key: Buffer): Promise<IKeyValue | undefined> {
    return new Promise((resolve, reject) => {
      this.#reads.push({ key, resolve, reject });
      this.#schedule();
    });
  }

  /** Puts `put` if `compare` holds. */
  write(compare: ICompare, put: IPutRequest): Promise<WriteOutcome> {
    return new Promise((resolve, reject) => {
      this.#writes.push({ compare, put, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const reads = this.#reads;
      const writes = this.#writes;
      this.#reads = [];
      this.#writes = [];
      for (let i = 0; i < reads.length; i += MAX_OPS) void this.#sendReads(reads.slice(i, i + MAX_OPS));
      for (const batch of writeBatches(writes)) void this.#sendWrites(batch);
    });
  }

  async #sendReads(batch: PendingRead[]): Promise<void> {
    try {
      const res = await this.#client.kv.txn({
        compare: [],
        success: batch.map((r) => ({ request_range: { key: r.key } })),
      });
      for (const [i, r] of batch.entries()) r.resolve(res.responses[i]?.response_range.kvs[0]);
    } catch (err) {
      for (const r of batch) r.reject(err);
    }
  }

  async #sendWrites(batch: PendingWrite[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const res = await this.#txn(batch);
        if (res.succeeded) {
          for (const w of batch) w.resolve({ succeeded: true, revision: res.header.revision });
          return;
        }
      } catch {
        // One write's failure (e.g. its lease ended) fails the batch: each is sent alone below.
      }
    }
    await Promise.all(
      batch.map(async (w) => {
        try {
          const res = await this.#txn([w]);
          w.resolve({ succeeded: res.succeeded, revision: res.header.revision });
        } catch (err) {
          w.reject(err);
        }
      }),
    );
  }

  #txn(batch: PendingWrite[]) {
    return this.#client.kv.txn({
      compare: batch.map((w) => w.compare),
      success: batch.map((w) => ({ request_put: w.put })),
    });
  }
}

/** Splits writes into batches of at most MAX_OPS with no key twice, in order. */
function writeBatches(writes: PendingWrite[]): PendingWrite[][] {
  const out: PendingWrite[][] = [];
  let batch: PendingWrite[] = [];
  let keys = new Set<string>();
  for (const w of writes) {
    const key = typeof w.put.key === 'string' ? w.put.key : Buffer.from(w.put.key ?? []).toString('latin1');
    if (batch.length >= MAX_OPS || keys.has(key)) {
      out.push(batch);
      batch = [];
      keys = new Set();
    }
    batch.push(w);
    keys.add(key);
  }
  if (batch.length > 0) out.push(batch);
  return out;
}
