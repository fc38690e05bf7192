/**
 * WebSocket series: `fleetgate_ws_messages_total{direction,service}` and
 * `fleetgate_ws_repins_total{service}` pushed by the message router, and the gauges
 * `fleetgate_ws_connections{service}`, `fleetgate_ws_pins{service}`, `fleetgate_ws_clients` read
 * from every attached gateway at scrape time (lib/websocket/websocket-metrics-sink.ts).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { MessageDirection, WebSocketLiveCounts } from '../websocket/websocket-metrics-sink.js';
import { type CounterCell, FastCounter } from './fast-series.js';

/** The WebSocket half of the metrics sink. */
export interface WebSocketRecorder {
  recordWsMessage(direction: MessageDirection, service: string): void;
  recordWsRepin(service: string): void;
  addWebSocketSource(counts: () => WebSocketLiveCounts): () => void;
}

/** Registers the WebSocket series in `registry`. */
export function websocketMetrics(registry: Registry): WebSocketRecorder {
  const registers = [registry];
  const sources = new Set<() => WebSocketLiveCounts>();
  const read = (): WebSocketLiveCounts[] => [...sources].map((s) => s());
  const messages = new FastCounter(
    'fleetgate_ws_messages_total',
    'WebSocket message frames relayed by the message router, by direction (to_service, to_client) and service.',
    ['direction', 'service'],
    registry,
  );
  const cells: Record<MessageDirection, Map<string, CounterCell>> = { to_service: new Map(), to_client: new Map() };
  const repins = new Counter({
    name: 'fleetgate_ws_repins_total',
    help: 'Message-routing clients re-pinned to a new instance after theirs went away, by service.',
    labelNames: ['service'] as const,
    registers,
  });
  const perService = (name: string, help: string, pick: (c: WebSocketLiveCounts) => Record<string, number>) =>
    new Gauge({
      name,
      help,
      labelNames: ['service'] as const,
      registers,
      collect() {
        this.reset();
        const sums = new Map<string, number>();
        for (const counts of read()) {
          for (const [service, n] of Object.entries(pick(counts))) sums.set(service, (sums.get(service) ?? 0) + n);
        }
        for (const [service, n] of sums) this.set({ service }, n);
      },
    });
  perService(
    'fleetgate_ws_connections',
    'Open WebSocket connections pinned to an instance (raw tunnels, handshakes, message links), by service.',
    (c) => c.connections,
  );
  perService(
    'fleetgate_ws_pins',
    "Message-routing pins (a client's link to one instance of a service), by service.",
    (c) => c.pins,
  );
  new Gauge({
    name: 'fleetgate_ws_clients',
    help: 'Clients connected to the message-routing endpoint.',
    registers,
    collect() {
      let n = 0;
      for (const counts of read()) n += counts.clients;
      this.set(n);
    },
  });
  return {
    recordWsMessage(direction, service) {
      const byService = cells[direction];
      let cell = byService.get(service);
      if (cell === undefined) {
        cell = messages.cell(direction, service);
        byService.set(service, cell);
      }
      cell.value++;
    },
    recordWsRepin: (service) => repins.inc({ service }),
    addWebSocketSource(counts) {
      sources.add(counts);
      return () => {
        sources.delete(counts);
      };
    },
  };
}
