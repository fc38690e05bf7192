/**
 * The sandbox's recent events (what it did, what it saw): shown by the dashboard, streamed over
 * SSE and printed by `up` in the foreground. A bounded ring, newest last.
 */
import { EventEmitter } from 'node:events';

/** One thing that happened. */
export interface SandboxEvent {
  /** ms since epoch. */
  at: number;
  /** `action` = done by the sandbox (crash, restart, scale), `process` = a child started or exited, `registry` = seen on a gateway, `drill` = reported by a drill. */
  kind: 'action' | 'process' | 'registry' | 'drill' | 'error';
  /** What it concerns: an instance, gateway or `store`. */
  target: string;
  message: string;
  /** Colour hint for the dashboard. */
  level: 'info' | 'good' | 'warn' | 'bad';
}

/**
 * A bounded event log.
 * @example const log = new EventLog(200); log.on('event', print); log.add({ kind: 'action', target: 'orders-1', message: 'crashed (kill -9)', level: 'bad' });
 */
export class EventLog extends EventEmitter<{ event: [SandboxEvent] }> {
  readonly #max: number;
  readonly #events: SandboxEvent[] = [];

  /** @param max how many events are kept. @default 200 */
  constructor(max = 200) {
    super();
    this.#max = max;
  }

  /** Records an event (stamped now unless `at` is given) and tells listeners. */
  add(event: Omit<SandboxEvent, 'at'> & { at?: number }): SandboxEvent {
    const e: SandboxEvent = { ...event, at: event.at ?? Date.now() };
    this.#events.push(e);
    if (this.#events.length > this.#max) this.#events.splice(0, this.#events.length - this.#max);
    this.emit('event', e);
    return e;
  }

  /** The newest `n` events, oldest first. */
  recent(n = 50): SandboxEvent[] {
    return this.#events.slice(-n);
  }
}
