/**
 * The etcd registry backend's single prefix watch: events turned into RegistryEvents, the last
 * seen revision tracked, `resync` reported after a reconnect, and the watch recreated from the
 * current revision when etcd cancels it (compaction).
 */
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import type { RegistryEvent } from '../model.js';
import type { EchoBook } from './echo-book.js';
import {
  decodeEnvelope,
  type EtcdEnvelope,
  type EtcdKeys,
  eventOfDelete,
  eventOfPut,
  prefixEnd,
} from './etcd-values.js';

/** Options for {@link EtcdWatch}. */
export interface EtcdWatchOptions {
  client: Etcd3;
  keys: EtcdKeys;
  clock: Clock;
  logger: Logger;
  onEvent(event: RegistryEvent | { type: 'resync' }): void;
  /** Values this gateway wrote, by {@link echoKey}: their echo is not decoded again. */
  echoes?: EchoBook<EtcdEnvelope>;
}

/**
 * Names one written value: its key at its `mod_revision` (the writes of one transaction share
 * the revision, never a key).
 * @example echoKey('/fleetgate/services/a/i-1', '42') // '42 /fleetgate/services/a/i-1'
 */
export function echoKey(key: string, revision: string): string {
  return `${revision} ${key}`;
}

/** A self-healing prefix watch over every instance key. */
export class EtcdWatch {
  readonly #o: EtcdWatchOptions;
  #watcher: Watcher | undefined;
  #ready: Promise<void>;
  #isEstablished = false;
  #connected = false;
  #gap = false;
  #closed = false;
  #lastRevision: string | undefined;

  constructor(options: EtcdWatchOptions) {
    this.#o = options;
    this.#ready = this.#open(false).then(() => {
      this.#isEstablished = true;
    });
  }

  /** Resolves once the watch is established (at once afterwards, and after close). Never rejects. */
  established(): Promise<void> {
    return this.#ready;
  }

  /** Whether {@link established} has resolved: operations need not wait for it any more. */
  get isEstablished(): boolean {
    return this.#isEstablished;
  }

  /** Whether the watch stream is up. */
  get connected(): boolean {
    return this.#connected;
  }

  /** mod_revision of the latest change seen. */
  get lastRevision(): string | undefined {
    return this.#lastRevision;
  }

  /**
   * Whether the change at `revision` was delivered already (events come in revision order): the
   * echo of a write answered after its event arrived is not waited for.
   */
  delivered(revision: string): boolean {
    const last = this.#lastRevision;
    // Decimal strings without leading zeros: longer is larger, equal lengths compare as text.
    return (
      last !== undefined && (last.length > revision.length || (last.length === revision.length && last >= revision))
    );
  }

  /** Cancels the watch. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const w = this.#watcher;
    this.#watcher = undefined;
    this.#connected = false;
    if (w === undefined) return;
    await Promise.race([w.cancel().catch(() => {}), this.#sleep(1000)]);
    w.removeAllListeners();
  }

  /**
   * Creates the watch from the current revision + 1, retrying while etcd is unreachable.
   * `resync`: report one once established (the previous watch was lost).
   */
  async #open(resync: boolean): Promise<void> {
    const { client, keys } = this.#o;
    for (let attempt = 0; !this.#closed; attempt++) {
      try {
        const res = await client.kv.range({
          key: Buffer.from(keys.services),
          range_end: prefixEnd(keys.services),
          count_only: true,
        });
        const start = (BigInt(res.header.revision) + 1n).toString();
        const watcher = await client.watch().prefix(keys.services).withPreviousKV().startRevision(start).create();
        if (this.#closed) {
          await watcher.cancel().catch(() => {});
          return;
        }
        this.#attach(watcher);
        if (resync) this.#o.onEvent({ type: 'resync' });
        return;
      } catch (err) {
        if (attempt === 0) this.#o.logger.warn(`[fleetgate] etcd watch not established yet: ${String(err)}`);
        await this.#sleep(Math.min(100 * 2 ** attempt, 1000));
      }
    }
  }

  #attach(watcher: Watcher): void {
    this.#watcher = watcher;
    this.#connected = true;
    const { keys, onEvent } = this.#o;
    const echoes = this.#o.echoes;
    watcher.on('put', (kv: IKeyValue) => {
      this.#lastRevision = kv.mod_revision;
      const echoed =
        echoes === undefined || echoes.size === 0
          ? undefined
          : echoes.take(echoKey(kv.key.toString(), kv.mod_revision));
      const env = echoed ?? decodeEnvelope(kv.value);
      const event = env === undefined ? undefined : eventOfPut(env);
      if (event !== undefined) onEvent(event);
    });
    watcher.on('delete', (kv: IKeyValue, previous?: IKeyValue) => {
      this.#lastRevision = kv.mod_revision;
      const event = eventOfDelete(keys, kv, previous);
      if (event !== undefined) onEvent(event);
    });
    // etcd3 re-attaches a disconnected watch itself, resuming after the last revision it saw.
    watcher.on('disconnected', () => {
      this.#connected = false;
      this.#gap = true;
    });
    watcher.on('connected', () => {
      this.#connected = true;
      if (this.#gap) {
        this.#gap = false;
        onEvent({ type: 'resync' });
      }
    });
    // A cancelled watch (e.g. its revision was compacted) is dropped by etcd3: start a new one.
    watcher.on('error', (err: Error) => {
      if (this.#closed || this.#watcher !== watcher) return;
      this.#o.logger.warn(`[fleetgate] etcd watch cancelled, recreating it: ${err.message}`);
      watcher.removeAllListeners();
      watcher.on('error', () => {});
      this.#watcher = undefined;
      this.#connected = false;
      void this.#open(true);
    });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#o.clock.setTimeout(resolve, ms));
  }
}
