/**
 * The echoes of this gateway's own heartbeats on the Redis event channel. Every heartbeat's
 * script publishes the renewed instance, and the gateway that sent it reads that event back on
 * its subscriber, usually right after the script's reply (Redis writes the caller's reply first).
 * Parsing the event again (its ~1 KB doc) for an instance the reply already carried cost CPU and,
 * at thousands of heartbeats a second, garbage. The reply's instance is remembered here under the
 * event's identity (`{"t":"heartbeat","s","i","h"` ... `"e"`: redis-keys.ts `eventIdentity`) and
 * handed to the watchers in place of a parse. An echo that arrives before the reply, or a
 * message whose encoding differs (Lua's cjson escapes `/`), is parsed as before.
 *
 * Entries live at most two generations of `generationMs` (echo-book.ts): an echo lost with a
 * subscriber reconnect (which reports a resync) never leaves one behind for long.
 */
import type { Clock } from '../../clock.js';
import type { ServiceInstance } from '../model.js';
import { EchoBook } from './echo-book.js';
import { eventIdentity } from './redis-keys.js';

/** Recently renewed instances, by the identity of the event their renewal published. */
export class HeartbeatEchoes {
  readonly #book: EchoBook<ServiceInstance>;

  /**
   * @param generationMs how long an entry waits for its echo, at least (at most twice this).
   * @example const echoes = new HeartbeatEchoes(clock); echoes.renewed(instance); echoes.take(message);
   */
  constructor(clock: Clock, generationMs = 1000) {
    this.#book = new EchoBook(clock, generationMs);
  }

  /** Entries waiting for their echo (tests, diagnostics). */
  get size(): number {
    return this.#book.size;
  }

  /** Remembers an instance a heartbeat's reply carried, until its echo arrives. */
  renewed(instance: ServiceInstance): void {
    this.#book.remember(identityOf(instance), instance);
  }

  /**
   * The instance for a message that is the echo of a remembered heartbeat (forgetting it), else
   * undefined. `identity`: the message's {@link eventIdentity}, when the caller has it already.
   */
  take(message: string, identity?: string): ServiceInstance | undefined {
    if (!message.startsWith(HEARTBEAT_PREFIX) || this.#book.size === 0) return undefined;
    return this.#book.take(identity ?? eventIdentity(message));
  }

  /** Forgets everything (a subscriber reconnected: the echoes may never come). */
  clear(): void {
    this.#book.clear();
  }
}

const HEARTBEAT_PREFIX = '{"t":"heartbeat",';

/** The identity the heartbeat script's event has (redis-scripts.ts `publish`), built in JS. */
function identityOf(i: ServiceInstance): string {
  return `${HEARTBEAT_PREFIX}"s":${JSON.stringify(i.service)},"i":${JSON.stringify(i.instanceId)},"h":${i.lastHeartbeat},"r":${i.registeredAt},"x":${i.expiresAt},"st":"${i.status}","e":${i.epoch}`;
}
