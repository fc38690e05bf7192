/**
 * The watch of the Redis registry backend: one subscriber connection on `<prefix>:events`
 * (standalone, or an injected connection) or one on every master (cluster, deduplicated:
 * redis-cluster-subscriber.ts), opened on the first watcher; every message is decoded once and
 * handed to every watcher; after any reconnect the watchers get `resync`.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import type { RegistryEvent, RegistryWatcher } from '../model.js';
import { ClusterSubscriber } from './redis-cluster-subscriber.js';
import { isCluster, openNodeSubscriber, openSubscriber } from './redis-connection.js';
import type { HeartbeatEchoes } from './redis-heartbeat-echoes.js';
import { eventFromMessage } from './redis-keys.js';
import { SubscriberLink } from './redis-subscriber.js';

/** Options for {@link RedisWatch}. */
export interface RedisWatchOptions {
  /** The command client: its connection options (standalone) or its masters (cluster). */
  client: Redis | Cluster;
  /** An injected pub/sub connection, used as is (not closed). */
  subscriber: Redis | undefined;
  /** The events channel. */
  channel: string;
  clock: Clock;
  /** Bound on the subscriber connections' commands. */
  commandTimeoutMs: number;
  logger: Logger;
  /** Sees every decoded event before the watchers do. */
  onEvent: (event: RegistryEvent) => void;
  /** A subscriber reconnected (events may have been missed), before the watchers get `resync`. */
  onResync: () => void;
  /** This backend's own renewals: their echoes are delivered without parsing the message again. */
  echoes?: HeartbeatEchoes;
}

/**
 * Subscribers of a Redis registry's events.
 * @example
 * const watch = new RedisWatch({ client, subscriber: undefined, channel: 'fleetgate:events', clock, commandTimeoutMs: 1000, logger, onEvent, onResync });
 * const stop = watch.add((event) => console.log(event.type));
 */
export class RedisWatch {
  readonly #o: RedisWatchOptions;
  readonly #watchers = new Set<RegistryWatcher>();
  #link: SubscriberLink | ClusterSubscriber | undefined;
  #subscribing: Promise<void> | undefined;

  constructor(options: RedisWatchOptions) {
    this.#o = options;
  }

  /** Adds a watcher (subscribing on the first one). Returns its removal. */
  add(onEvent: RegistryWatcher): () => void {
    const watcher: RegistryWatcher = (event) => onEvent(event);
    this.#watchers.add(watcher);
    this.#ensureSubscribed();
    return () => {
      this.#watchers.delete(watcher);
    };
  }

  /**
   * Settles once the first SUBSCRIBE is acknowledged; undefined after that or before watching.
   * Operations wait for it, so a watcher sees the events of writes made after watch() returned.
   */
  get subscribing(): Promise<void> | undefined {
    return this.#subscribing;
  }

  /** `host:port` of every node the subscription listens on, once watching. */
  get addresses(): string[] {
    const link = this.#link;
    if (link === undefined) return [];
    if (link instanceof ClusterSubscriber) return link.addresses;
    return link.address === undefined ? [] : [link.address];
  }

  /** Whether a subscription is open (the first watcher came and the watch was not closed). */
  get watching(): boolean {
    return this.#link !== undefined && this.#watchers.size > 0;
  }

  /** Reopens the subscriber connections (they then report `resync`). */
  reconnect(): void {
    this.#link?.reconnect();
  }

  /** Drops every watcher and closes the subscriber connections we opened. */
  async close(): Promise<void> {
    this.#watchers.clear();
    await this.#link?.close();
  }

  #ensureSubscribed(): void {
    if (this.#link !== undefined) return;
    const o = this.#o;
    const injected = o.subscriber;
    const onMessage = (message: string, identity?: string): void => {
      const echoed = o.echoes?.take(message, identity);
      const event: RegistryEvent | undefined =
        echoed === undefined
          ? eventFromMessage(message)
          : { type: 'heartbeat', service: echoed.service, instanceId: echoed.instanceId, instance: echoed };
      if (event === undefined) return;
      o.onEvent(event);
      this.#emit(event);
    };
    const onResync = (): void => {
      o.echoes?.clear();
      o.onResync();
      this.#emit({ type: 'resync' });
    };
    const client = o.client;
    // A cluster gets a link on every master (a hung node must not stall the watch); a standalone
    // server or an injected connection one link.
    const link =
      injected === undefined && isCluster(client)
        ? new ClusterSubscriber({
            cluster: client,
            channel: o.channel,
            clock: o.clock,
            connect: (node) => openNodeSubscriber(client, node, o.commandTimeoutMs),
            onMessage,
            onResync,
          })
        : new SubscriberLink({
            channel: o.channel,
            clock: o.clock,
            owned: injected === undefined,
            connect: () => injected ?? openSubscriber(client as Redis, o.commandTimeoutMs), // standalone here
            onMessage,
            onResync,
          });
    this.#link = link;
    const subscribing = link.subscribed().then(() => {
      if (this.#subscribing === subscribing) this.#subscribing = undefined;
    });
    this.#subscribing = subscribing;
  }

  #emit(event: RegistryEvent | { type: 'resync' }): void {
    for (const watcher of [...this.#watchers]) {
      try {
        watcher(event);
      } catch (err) {
        this.#o.logger.warn(`[fleetgate] registry watcher threw: ${String(err)}`);
      }
    }
  }
}
