/**
 * The pub/sub side of the Redis registry backend: one subscriber connection on the events
 * channel that survives reconnects and, on a Redis Cluster, node failures.
 *
 * Messages published while the subscriber is disconnected are lost (Redis pub/sub keeps
 * nothing), so every re-subscription after the first one reports a resync: the watcher
 * re-lists the store instead of trusting a stream with a gap.
 */
import type { Redis } from 'ioredis';
import type { Clock, TimerHandle } from '../../clock.js';

/** Options for {@link SubscriberLink}. */
export interface SubscriberLinkOptions {
  channel: string;
  /**
   * Opens a subscriber connection. `attempt` counts connections opened so far; a cluster
   * factory uses it to move to another node when one connection gives up ('end').
   */
  connect(attempt: number): Redis;
  /**
   * Whether the connections are ours. An injected one (false) is reused as is: ioredis's own
   * reconnection brings it back, and close() only unsubscribes it. @default true
   */
  owned?: boolean;
  /** Timer source for the reopen delay. */
  clock: Clock;
  onMessage(message: string): void;
  onResync(): void;
  /** Delay before opening the next connection after one ended. @default 200 */
  reopenDelayMs?: number;
}

/** A self-healing subscription to one channel. */
export class SubscriberLink {
  readonly #opts: SubscriberLinkOptions;
  #conn: Redis | undefined;
  #attempt = 0;
  #subscribedOnce = false;
  #closed = false;
  #firstSubscribed: Promise<void>;
  #resolveFirst!: () => void;
  #reopenTimer: TimerHandle | undefined;

  constructor(options: SubscriberLinkOptions) {
    this.#opts = options;
    this.#firstSubscribed = new Promise((resolve) => {
      this.#resolveFirst = resolve;
    });
    this.#open();
  }

  /** Resolves once the channel is subscribed for the first time (or the link is closed). */
  subscribed(): Promise<void> {
    return this.#firstSubscribed;
  }

  /** `host:port` of the current subscriber connection (diagnostics, tests). */
  get address(): string | undefined {
    const o = this.#conn?.options;
    return o === undefined ? undefined : `${o.host}:${o.port}`;
  }

  /** True once subscribed and while the connection is up. */
  get connected(): boolean {
    return this.#subscribedOnce && this.#conn?.status === 'ready';
  }

  #open(): void {
    if (this.#closed) return;
    const conn = this.#opts.connect(this.#attempt++);
    this.#conn = conn;
    conn.on('message', (channel: string, message: string) => {
      if (channel === this.#opts.channel && conn === this.#conn) this.#opts.onMessage(message);
    });
    // Errors are reported through reconnects; an 'error' listener keeps ioredis from logging them.
    conn.on('error', () => {});
    const subscribe = (): void => {
      conn.subscribe(this.#opts.channel).then(
        () => {
          if (this.#closed || conn !== this.#conn) return;
          if (this.#subscribedOnce) this.#opts.onResync();
          this.#subscribedOnce = true;
          this.#resolveFirst();
        },
        // The connection dropped mid-subscribe ('ready' or 'end' comes next), or the SUBSCRIBE
        // timed out on a node that stopped answering: reconnect, so the link subscribes once the
        // node answers again instead of sitting connected and deaf.
        () => {
          if (!this.#closed && conn === this.#conn && conn.status === 'ready') conn.disconnect(true);
        },
      );
    };
    conn.on('ready', subscribe);
    if (conn.status === 'ready') subscribe();
    conn.on('end', () => {
      if (this.#closed || conn !== this.#conn || this.#opts.owned === false) return;
      this.#reopenTimer = this.#opts.clock.setTimeout(() => this.#open(), this.#opts.reopenDelayMs ?? 200);
    });
  }

  /**
   * Drops the connection and opens it again (if owned); the re-subscription reports a resync.
   * For a partition that healed: the old socket may wait in TCP backoff for seconds.
   */
  reconnect(): void {
    if (this.#closed || this.#opts.owned === false) return;
    this.#conn?.disconnect(true);
  }

  /** Unsubscribes and closes the connection (if owned). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#reopenTimer?.cancel();
    this.#resolveFirst();
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn === undefined) return;
    if (this.#opts.owned === false) {
      await conn.unsubscribe(this.#opts.channel).catch(() => {});
      return;
    }
    conn.disconnect();
  }
}
