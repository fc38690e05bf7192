/**
 * Route claims written in batches (group commit). Every claim of one gateway goes through one
 * queue: a single worker brings its {@link ClaimBook} up to date with the store (an incremental
 * read: only what changed since its version), decides every waiting claim against it, and writes
 * all the new claims in one compare-and-set on the store's version. Before this, each
 * registration read every claim of the fleet and raced every other registration of the same
 * gateway for the one version: at 10,000 instances in 1,000 services it cost ~13 ms of CPU and
 * lost the race until it answered 503.
 *
 * Two gateways still serialise on the store's version: of two colliding claims one is written
 * first and the other, re-decided against it, is refused (lib/registry/backends/claim-race.test-kit.ts).
 */
import type { Clock } from '../../clock.js';
import type { ClaimBook } from './store-claim-book.js';
import { CLAIM_ATTEMPTS, type ClaimedRouteSpec, claimContended, type ServiceClaim } from './store-route-claims.js';

/** What a store gives the queue: an incremental read and a versioned write of claims. */
export interface ClaimStore {
  /** Brings `book` up to date with the store and sets `book.version` (a full read when it is `undefined`). */
  refresh(book: ClaimBook): Promise<void>;
  /**
   * Writes `claims` only if the store is still at `book.version`; on success sets `book.version`
   * to the version written and returns true, else returns false and changes nothing.
   */
  write(book: ClaimBook, claims: ReadonlyMap<string, ServiceClaim>): Promise<boolean>;
}

/** Options for {@link ClaimQueue}. */
export interface ClaimQueueOptions {
  store: ClaimStore;
  book: ClaimBook;
  clock: Clock;
  /** Most claims decided and written together (an etcd transaction holds at most 128 operations). */
  maxBatch: number;
  /** Called for each service whose claim was written (or found covering), with the time of the decision. */
  onClaimed?: (service: string, now: number) => void;
}

interface Waiting {
  service: string;
  routes: readonly ClaimedRouteSpec[];
  ttlMs: number;
  /** A registration: nothing to write when the live claim already holds the routes. A heartbeat's touch writes. */
  skipCovered: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * The claim queue of one backend.
 * @example
 * const queue = new ClaimQueue({ store, book: new ClaimBook(), clock: realClock, maxBatch: 256 });
 * await queue.claim('orders', claimRoutesOf([{ method: 'GET', path: '/orders/**' }]), 90_000, true);
 */
export class ClaimQueue {
  readonly #o: ClaimQueueOptions;
  #waiting: Waiting[] = [];
  #draining = false;
  #stale = false;

  constructor(options: ClaimQueueOptions) {
    this.#o = options;
  }

  /** Claims `routes` for `service`; rejects with `ERR_FG_ROUTE_CONFLICT`, a store error, or after too many lost races. */
  claim(service: string, routes: readonly ClaimedRouteSpec[], ttlMs: number, skipCovered: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ service, routes, ttlMs, skipCovered, resolve, reject });
      if (!this.#draining) void this.#drain();
    });
  }

  /** Drops the local copy before the next batch (the store may have lost or replaced its data). */
  invalidate(): void {
    this.#stale = true;
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#waiting.length > 0) {
        const batch = this.#waiting.splice(0, this.#o.maxBatch);
        await this.#settle(batch);
      }
    } finally {
      this.#draining = false;
    }
  }

  async #settle(batch: Waiting[]): Promise<void> {
    const { store, book, clock } = this.#o;
    let open = batch;
    for (let attempt = 1; attempt <= CLAIM_ATTEMPTS && open.length > 0; attempt++) {
      if (this.#stale) {
        this.#stale = false;
        book.reset();
      }
      try {
        await store.refresh(book);
      } catch (err) {
        book.reset(); // a read cut short may have left the copy half updated
        for (const w of open) w.reject(err);
        return;
      }
      const now = clock.now();
      const writes = new Map<string, ServiceClaim>();
      const before = new Map<string, ServiceClaim | undefined>();
      const toWrite: Waiting[] = [];
      for (const w of open) {
        if (w.skipCovered && book.covers(w.service, w.routes, now, w.ttlMs)) {
          this.#o.onClaimed?.(w.service, now);
          w.resolve();
          continue;
        }
        let next: ServiceClaim;
        try {
          next = book.decide(w.service, w.routes, now, w.ttlMs);
        } catch (err) {
          w.reject(err);
          continue;
        }
        // Later claims of the batch are decided against the earlier ones, as if written one by one.
        if (!before.has(w.service)) before.set(w.service, book.get(w.service));
        book.set(w.service, next);
        writes.set(w.service, next);
        toWrite.push(w);
      }
      if (writes.size === 0) return;
      let won: boolean;
      try {
        won = await store.write(book, writes);
      } catch (err) {
        book.reset(); // the write may or may not have landed: read everything again next time
        for (const w of toWrite) w.reject(err);
        return;
      }
      if (won) {
        for (const service of writes.keys()) this.#o.onClaimed?.(service, now);
        for (const w of toWrite) w.resolve();
        return;
      }
      for (const [service, claim] of before) book.set(service, claim);
      open = toWrite;
    }
    for (const w of open) w.reject(claimContended(w.service));
  }
}
