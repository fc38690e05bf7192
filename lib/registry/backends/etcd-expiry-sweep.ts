/**
 * Expiry of instances on a shared bucket lease (etcd-lease-buckets.ts): the lease outlives any
 * one instance, so each gateway deletes the records it wrote last once their `expiresAt` has
 * passed. The delete is guarded by the `mod_revision` this gateway wrote: a record renewed or
 * re-registered since (through any gateway) is left alone and forgotten here. Watchers see a
 * DELETE whose previous value is a live record, i.e. an `expire`.
 *
 * Readers never wait for this sweep: `get`, `list` and every gateway's cache filter by `expiresAt`.
 */
import type { Clock, TimerHandle } from '../../clock.js';
import type { Logger } from '../../logger.js';
import type { EtcdRecords } from './etcd-records.js';

/** Deletes at most this many records at once. */
const SWEEP_WIDTH = 32;

/** Options for {@link EtcdExpirySweep}. */
export interface EtcdExpirySweepOptions {
  records: EtcdRecords;
  clock: Clock;
  /** Pause between sweeps. */
  intervalMs: number;
  logger: Logger;
}

/** The records this gateway wrote last, and their deletion once expired. */
export class EtcdExpirySweep {
  readonly #o: EtcdExpirySweepOptions;
  /** key → the expiry and revision this gateway wrote. */
  readonly #written = new Map<string, { expiresAt: number; revision: string }>();
  readonly #timer: TimerHandle;
  #sweeping: Promise<void> | undefined;

  constructor(options: EtcdExpirySweepOptions) {
    this.#o = options;
    this.#timer = options.clock.setInterval(() => void this.sweep(), options.intervalMs);
  }

  /** Number of records this gateway would sweep (diagnostics, tests). */
  get tracked(): number {
    return this.#written.size;
  }

  /** Notes a record this gateway just wrote (`expiresAt` undefined: a tombstone, nothing to sweep). */
  noted(key: string, expiresAt: number | undefined, revision: string): void {
    if (expiresAt === undefined) this.#written.delete(key);
    else this.#written.set(key, { expiresAt, revision });
  }

  /** Deletes the expired records still at the revision written here; resolves when done. */
  sweep(): Promise<void> {
    this.#sweeping ??= this.#sweep().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  /** Stops the timer; a sweep in flight finishes. */
  close(): Promise<void> {
    this.#timer.cancel();
    return this.#sweeping ?? Promise.resolve();
  }

  async #sweep(): Promise<void> {
    const now = this.#o.clock.now();
    const due: [string, string][] = [];
    for (const [key, w] of this.#written) if (w.expiresAt <= now) due.push([key, w.revision]);
    let at = 0;
    const lane = async (): Promise<void> => {
      while (at < due.length) {
        const [key, revision] = due[at++]!;
        try {
          await this.#o.records.deleteAt(key, revision);
          // Deleted, or changed since (then whoever changed it sweeps it): not ours any more.
          if (this.#written.get(key)?.revision === revision) this.#written.delete(key);
        } catch (err) {
          this.#o.logger.warn(`[fleetgate] etcd expiry sweep: ${key}: ${String(err)}; retried next sweep`);
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(SWEEP_WIDTH, due.length) }, lane));
  }
}
