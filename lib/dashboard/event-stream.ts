/**
 * The dashboard's live feed as server-sent events: every open stream gets a `snapshot` event once
 * a second, and within `settleMs` of a registry event (an instance going DOWN shows at once,
 * not at the next tick). Snapshots are built only while someone watches. Bounded: at most
 * `maxStreams` open streams; more are refused with 429 `ERR_FG_RATE_LIMITED`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock, TimerHandle } from '../clock.js';
import { sendError } from '../core/send-error.js';
import { FleetgateError } from '../errors.js';

/** Options of {@link EventStream}. */
export interface EventStreamOptions {
  /** Builds the JSON sent as each `snapshot` event. */
  snapshot: () => unknown;
  clock: Clock;
  /** Push period. @default 1000 */
  intervalMs?: number;
  /** Delay between a registry event and its push (events in a burst share one push). @default 50 */
  settleMs?: number;
  /** Open streams at most. @default 32 */
  maxStreams?: number;
  /** Checked at each tick: when true every stream is ended (a draining gateway). @default () => false */
  ended?: () => boolean;
}

/**
 * @example
 * const stream = new EventStream({ snapshot: () => build(), clock });
 * stream.open(req, res); // in a GET handler
 * stream.changed();      // after a registry event
 */
export class EventStream {
  readonly #o: Required<EventStreamOptions>;
  readonly #streams = new Set<ServerResponse>();
  #tick: TimerHandle | undefined;
  #soon: TimerHandle | undefined;

  constructor(options: EventStreamOptions) {
    this.#o = { intervalMs: 1000, settleMs: 50, maxStreams: 32, ended: () => false, ...options };
  }

  /** Open streams. */
  get size(): number {
    return this.#streams.size;
  }

  /** Answers `req` with an event stream (first snapshot at once). */
  open(req: IncomingMessage, res: ServerResponse): void {
    if (this.#streams.size >= this.#o.maxStreams) {
      sendError(
        res,
        new FleetgateError('ERR_FG_RATE_LIMITED', `at most ${this.#o.maxStreams} dashboard streams are open at once`),
      );
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    // A gateway that drains sends `Connection: close`; the page's EventSource reconnects by itself.
    res.write('retry: 1000\n\n');
    this.#streams.add(res);
    const drop = (): void => {
      this.#streams.delete(res);
      if (this.#streams.size === 0) this.#stop();
    };
    req.once('close', drop);
    res.once('close', drop);
    this.#send(res, this.#data());
    this.#tick ??= this.#o.clock.setInterval(() => this.#push(), this.#o.intervalMs);
  }

  /** Something changed: push within `settleMs`. */
  changed(): void {
    if (this.#streams.size === 0 || this.#soon !== undefined) return;
    this.#soon = this.#o.clock.setTimeout(() => {
      this.#soon = undefined;
      this.#push();
    }, this.#o.settleMs);
  }

  /** Ends every stream and stops the timers. */
  close(): void {
    for (const res of this.#streams) res.end();
    this.#streams.clear();
    this.#stop();
  }

  #stop(): void {
    this.#tick?.cancel();
    this.#tick = undefined;
    this.#soon?.cancel();
    this.#soon = undefined;
  }

  #data(): string {
    return `event: snapshot\ndata: ${JSON.stringify(this.#o.snapshot())}\n\n`;
  }

  #push(): void {
    if (this.#streams.size === 0) return;
    if (this.#o.ended()) {
      this.close();
      return;
    }
    const data = this.#data();
    for (const res of this.#streams) this.#send(res, data);
  }

  #send(res: ServerResponse, data: string): void {
    // A reader that stopped reading is not buffered for: it is dropped and reconnects.
    if (res.writableLength > 1 << 20) {
      res.destroy();
      return;
    }
    res.write(data);
  }
}
