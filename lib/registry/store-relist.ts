/**
 * The registry's full re-list of its store (the initial fill, after a watch `resync`, after the
 * store comes back): one run at a time, repeated once more if asked for meanwhile, bounded by a
 * deadline, and remembered as failed so the next sweep retries it.
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { LocalCache } from './local-cache.js';
import type { ServiceInstance } from './model.js';
import { withDeadline } from './store-deadline.js';
import { describeError, storeUnavailableError } from './store-errors.js';

/** Options for {@link StoreRelist}. */
export interface StoreRelistOptions {
  /** Backend type for messages, e.g. `REDIS`. */
  type: string;
  /** Lists every instance in the store. */
  list: () => Promise<ServiceInstance[]>;
  /** The cache the listing replaces. */
  cache: Pick<LocalCache, 'relistStarted' | 'relistFailed' | 'relisted'>;
  clock: Clock;
  logger: Logger;
  /** Bound on one listing, in ms. */
  timeoutMs: number;
  /** Whether the registry is closing: then a listing is dropped and not repeated. */
  closing: () => boolean;
  /** A listing succeeded and the cache holds it. */
  onListed: () => void;
}

/**
 * Runs re-lists of the store into the local cache.
 * @example
 * const relist = new StoreRelist({ type: 'REDIS', list: () => backend.list(), cache, clock, logger, timeoutMs: 900, closing, onListed });
 * await relist.run();
 */
export class StoreRelist {
  readonly #o: StoreRelistOptions;
  #running: Promise<void> | undefined;
  #again = false;
  #needed = false;
  #failure: string | undefined;

  constructor(options: StoreRelistOptions) {
    this.#o = options;
  }

  /** Whether the last listing failed and none is running: the next sweep should retry. */
  get needed(): boolean {
    return this.#needed && this.#running === undefined;
  }

  /** Why the last listing failed, until one succeeds. */
  get failure(): string | undefined {
    return this.#failure;
  }

  /** Re-lists the store in full and swaps in the rebuilt cache; one run at a time, repeated if asked meanwhile. */
  run(): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.#once();
        } while (this.#again && !this.#o.closing());
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  async #once(): Promise<void> {
    const o = this.#o;
    o.cache.relistStarted();
    let listed: ServiceInstance[];
    try {
      listed = await withDeadline(o.clock, o.timeoutMs, o.list, 'list');
    } catch (err) {
      o.cache.relistFailed();
      this.#needed = true;
      this.#failure = `cannot list the ${o.type} store (${describeError(err)}); serving the last-known routes`;
      o.logger.warn(`fleetgate registry: ${this.#failure}`);
      throw storeUnavailableError(o.type, err);
    }
    if (o.closing()) return;
    this.#needed = false;
    this.#failure = undefined;
    o.onListed();
    const { lost } = o.cache.relisted(listed);
    if (lost > 0) o.logger.warn(`fleetgate registry: ${lost} cached instances are missing from the store`);
  }
}
