/**
 * Frames the message router refuses to relay and does not answer: replies that did not come from
 * the instance that received the request, client answers to requests the gateway never sent,
 * and service frames it cannot read. Counted per reason (and per service, for the metric), never
 * relayed: the client must be able to trust that a reply answers its own request.
 */
/** Why a frame was dropped. */
export type DropReason =
  /** A service sent a reply (`id`, no `path`) for an id it was never sent or already answered. */
  | 'forged_reply'
  /** A client answered an id the gateway did not issue (or issued to a link that is gone). */
  | 'unknown_reply'
  /** A service frame that is not a frame of the connection's encoding. */
  | 'malformed';

/** Every drop reason, for zero-filled counters. */
export const DROP_REASONS: readonly DropReason[] = Object.freeze(['forged_reply', 'unknown_reply', 'malformed']);

/** One dropped frame, as reported to a metrics sink. */
export interface DroppedFrameRecord {
  reason: DropReason;
  /** The service the frame came from or was meant for; `'-'` when none can be named. */
  service: string;
}

/** Where drops are counted: the `recordDroppedFrame` of a WebSocketMetricsSink (websocket-metrics-sink.ts). */
export interface DroppedFrameSink {
  /** Counts one dropped frame. */
  recordDroppedFrame?(record: DroppedFrameRecord): void;
}

/**
 * @example
 * const drops = new DroppedFrames(metrics);
 * drops.record('forged_reply', 'chat');
 * drops.counts(); // { forged_reply: 1, unknown_reply: 0, malformed: 0 }
 */
export class DroppedFrames {
  readonly #counts: Record<DropReason, number> = { forged_reply: 0, unknown_reply: 0, malformed: 0 };
  readonly #sink: DroppedFrameSink | undefined;

  constructor(sink: DroppedFrameSink | undefined) {
    this.#sink = sink;
  }

  /** Counts one dropped frame. */
  record(reason: DropReason, service: string): void {
    this.#counts[reason]++;
    this.#sink?.recordDroppedFrame?.({ reason, service });
  }

  /** Drops so far, per reason. */
  counts(): Record<DropReason, number> {
    return { ...this.#counts };
  }
}
