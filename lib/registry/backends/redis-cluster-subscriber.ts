/**
 * The pub/sub side of the Redis registry backend on a Redis Cluster: one subscriber link
 * (lib/registry/backends/redis-subscriber.ts) on every master, each event taken once from
 * whichever link delivers it first.
 *
 * Cluster PUBLISH reaches every node, so any one healthy link sees every change. A single link
 * on a node that stops answering (SIGSTOP, a partition: no RST) hears nothing and looks
 * connected until a deadline notices; the watch then stalled for seconds while the link moved
 * on (1.3 to over 5 s measured by the cluster-failover drill). With a link per master the
 * healthy ones keep delivering. The set of masters is re-read whenever the cluster client
 * refreshes its slots (failover, resharding): links open on new masters and close on nodes that
 * are no longer masters. A periodic resync is the safety net for anything missed.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Clock, TimerHandle } from '../../clock.js';
import { eventIdentity } from './redis-keys.js';
import { SubscriberLink } from './redis-subscriber.js';

/** Options for {@link ClusterSubscriber}. */
export interface ClusterSubscriberOptions {
  cluster: Cluster;
  channel: string;
  clock: Clock;
  /** Opens a subscriber connection to one node. */
  connect(node: { host: string; port: number }): Redis;
  /** Each event once; `identity` is its {@link eventIdentity}. */
  onMessage(message: string, identity: string): void;
  onResync(): void;
  /** A full resync this often, whatever the links say. @default 30000 */
  resyncIntervalMs?: number;
  /** How long a delivered message is remembered to drop its copies from the other links. @default 10000 */
  dedupeWindowMs?: number;
}

/** A subscription to one channel on every master of a cluster. */
export class ClusterSubscriber {
  readonly #o: ClusterSubscriberOptions;
  readonly #links = new Map<string, SubscriberLink>();
  /**
   * Identities of the events delivered recently (the message without its doc: a tenth of its
   * size, and kept for the dedupe window), with when they were first seen (insertion order =
   * time order).
   */
  readonly #seen = new Map<string, number>();
  readonly #resyncTimer: TimerHandle;
  readonly #onTopology = (): void => this.#reconcile();
  #first: Promise<void>;
  #resolveFirst!: () => void;
  #closed = false;

  constructor(options: ClusterSubscriberOptions) {
    this.#o = options;
    this.#first = new Promise((resolve) => {
      this.#resolveFirst = resolve;
    });
    options.cluster.on('refresh', this.#onTopology);
    options.cluster.on('+node', this.#onTopology);
    options.cluster.on('-node', this.#onTopology);
    this.#resyncTimer = options.clock.setInterval(() => {
      if (!this.#closed) this.#o.onResync();
    }, options.resyncIntervalMs ?? 30_000);
    this.#reconcile();
  }

  /** Resolves once one link is subscribed (every node gets every PUBLISH), or on close. */
  subscribed(): Promise<void> {
    return this.#first;
  }

  /** `host:port` of every node with a link, sorted (diagnostics, tests). */
  get addresses(): string[] {
    return [...this.#links.keys()].sort();
  }

  /** Drops every link's connection and opens it again (after a partition healed). */
  reconnect(): void {
    for (const link of this.#links.values()) link.reconnect();
    this.#reconcile();
  }

  /** Closes every link. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#resyncTimer.cancel();
    this.#o.cluster.off('refresh', this.#onTopology);
    this.#o.cluster.off('+node', this.#onTopology);
    this.#o.cluster.off('-node', this.#onTopology);
    this.#resolveFirst();
    const links = [...this.#links.values()];
    this.#links.clear();
    await Promise.all(links.map((l) => l.close()));
  }

  /** Opens links on masters that have none and closes links on nodes that are no longer masters. */
  #reconcile(): void {
    if (this.#closed) return;
    const masters = mastersOf(this.#o.cluster);
    // Before the first slots refresh the client knows only its seed nodes: listen on all of them.
    const wanted = masters.length > 0 ? masters : seedsOf(this.#o.cluster);
    const keys = new Set(wanted.map((n) => `${n.host}:${n.port}`));
    for (const [key, link] of this.#links) {
      if (keys.has(key)) continue;
      this.#links.delete(key);
      void link.close();
    }
    for (const node of wanted) {
      const key = `${node.host}:${node.port}`;
      if (this.#links.has(key)) continue;
      const link = new SubscriberLink({
        channel: this.#o.channel,
        clock: this.#o.clock,
        connect: () => this.#o.connect(node),
        onMessage: (message) => this.#deliver(message),
        // This link had a gap; a resync covers it even if another link saw everything meanwhile.
        onResync: () => this.#o.onResync(),
      });
      this.#links.set(key, link);
      void link.subscribed().then(() => this.#resolveFirst());
    }
  }

  #deliver(message: string): void {
    const now = this.#o.clock.now();
    const window = this.#o.dedupeWindowMs ?? 10_000;
    for (const [text, at] of this.#seen) {
      if (now - at < window) break;
      this.#seen.delete(text);
    }
    const identity = eventIdentity(message);
    if (this.#seen.has(identity)) return;
    this.#seen.set(identity, now);
    this.#o.onMessage(message, identity);
  }
}

function mastersOf(cluster: Cluster): { host: string; port: number }[] {
  return cluster.nodes('master').map((n) => ({ host: n.options.host ?? '127.0.0.1', port: n.options.port ?? 6379 }));
}

function seedsOf(cluster: Cluster): { host: string; port: number }[] {
  return cluster.nodes('all').map((n) => ({ host: n.options.host ?? '127.0.0.1', port: n.options.port ?? 6379 }));
}
