/**
 * What the WebSocket gateway reports to a metrics sink. lib/websocket never imports
 * lib/telemetry: `createMetrics()` (lib/telemetry/metrics.ts) fits this interface. Every method
 * is optional. Counters are pushed where the event happens (a frame relayed, a re-pin); gauges
 * (open connections, pins) are read from the gateway when the metrics are scraped, so they cost
 * the connection path nothing and can never drift.
 */
import type { ViaLoopKind } from '../upstream/via.js';
import type { DroppedFrameRecord } from './dropped-frames.js';

/** Which way a message frame was relayed. */
export type MessageDirection =
  /** From a client to a service. */
  | 'to_service'
  /** From a service to a client (replies, pushes, requests to the client). */
  | 'to_client';

/** A WebSocket gateway's live counts, read at scrape time. */
export interface WebSocketLiveCounts {
  /** Clients connected to the message endpoint. */
  clients: number;
  /** Connections pinned to an instance of each service: raw tunnels, handshakes, message links. */
  connections: Record<string, number>;
  /** Message-routing pins (a client's link to one instance) per service. */
  pins: Record<string, number>;
}

/** Where the WebSocket gateway reports; `createMetrics()` (lib/telemetry/metrics.ts) fits. */
export interface WebSocketMetricsSink {
  /** Counts one dropped frame. */
  recordDroppedFrame?(record: DroppedFrameRecord): void;
  /** Counts one message frame relayed. */
  recordWsMessage?(direction: MessageDirection, service: string): void;
  /** Counts a re-pin: a client's link opened to a new instance after its pinned one went away. */
  recordWsRepin?(service: string): void;
  /** An upgrade refused as a loop (508 `ERR_FG_LOOP_DETECTED`, lib/upstream/via.ts). */
  recordLoopDetected?(kind: ViaLoopKind): void;
  /** Adds a gateway whose counts are read at every scrape; call the returned function when it closes. */
  addWebSocketSource?(counts: () => WebSocketLiveCounts): () => void;
}
