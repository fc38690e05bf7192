/**
 * The WebSocket bench's load generator: a set of client connections to one server that keep
 * `window` messages in flight each while running, and can be stopped and restarted, so two
 * servers can take turns in short slices (bench/websocket.ts pairs the relay and the gateway that
 * way, on the same machine weather). Frames are pre-encoded: the generator's CPU stays small.
 */
import { once } from 'node:events';
import { encode } from '@msgpack/msgpack';
import WebSocket from 'ws';

/** What the clients send: a raw payload, or `{path,id,data}` frames in JSON text or MessagePack. */
export type Framing = 'raw' | 'json' | 'msgpack';

/** The raw payload, and the `data` of message frames. */
export const PAYLOAD = 'x'.repeat(64);
/** Distinct ids per framing; a connection never has more than its window of them in flight. */
const FRAME_POOL = 4096;

function framePool(framing: Exclude<Framing, 'raw'>): Buffer[] {
  return Array.from({ length: FRAME_POOL }, (_, id) => {
    const frame = { path: '/bench/x', id, data: PAYLOAD };
    return framing === 'json' ? Buffer.from(JSON.stringify(frame)) : Buffer.from(encode(frame));
  });
}

let pools: Record<'json' | 'msgpack', Buffer[]> | undefined;

/** Opens `n` clients (200 handshakes at a time), permessage-deflate off as on every server. */
export async function openAll(url: string, n: number, protocols: string[] = []): Promise<WebSocket[]> {
  const out: WebSocket[] = [];
  for (let i = 0; i < n; i += 200) {
    const batch = Array.from(
      { length: Math.min(200, n - i) },
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(url, protocols, { perMessageDeflate: false });
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        }),
    );
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

/** Terminates every client and waits for their close events. */
export async function closeAll(sockets: WebSocket[]): Promise<void> {
  await Promise.all(
    sockets.map((ws) => {
      const closed = once(ws, 'close');
      ws.terminate();
      return closed;
    }),
  );
}

/**
 * @example
 * const load = await ClientLoad.open('ws://127.0.0.1:8080/ws', 'json', 50, 8);
 * load.start(); await sleep(500); await load.stop(); // load.received counts the answers
 * await load.close();
 */
export class ClientLoad {
  /** Answers received so far. */
  received = 0;
  readonly #sockets: WebSocket[];
  readonly #window: number;
  readonly #send: (ws: WebSocket) => void;
  #inflight = 0;
  #running = false;

  private constructor(sockets: WebSocket[], framing: Framing, window: number) {
    this.#sockets = sockets;
    this.#window = window;
    pools ??= { json: framePool('json'), msgpack: framePool('msgpack') };
    const pool = framing === 'raw' ? undefined : pools[framing];
    const binary = framing === 'msgpack';
    let n = 0;
    this.#send = (ws) => {
      this.#inflight++;
      if (pool === undefined) ws.send(PAYLOAD);
      else ws.send(pool[n++ % FRAME_POOL]!, { binary });
    };
    for (const ws of sockets) {
      ws.on('message', () => {
        this.received++;
        this.#inflight--;
        if (this.#running) this.#send(ws);
      });
    }
  }

  /** Opens `connections` clients to `url` speaking `framing`. */
  static async open(url: string, framing: Framing, connections: number, window: number): Promise<ClientLoad> {
    const sockets = await openAll(url, connections, framing === 'msgpack' ? ['fleetgate.msgpack'] : []);
    return new ClientLoad(sockets, framing, window);
  }

  /** Every client puts its window of messages in flight and sends one more per answer. */
  start(): void {
    this.#running = true;
    for (const ws of this.#sockets) for (let i = 0; i < this.#window; i++) this.#send(ws);
  }

  /** Stops sending and waits (polling, at most `boundMs`) until every message in flight is answered. */
  async stop(boundMs = 5000): Promise<void> {
    this.#running = false;
    const until = performance.now() + boundMs;
    while (this.#inflight > 0) {
      if (performance.now() > until)
        throw new Error(`bench: ${this.#inflight} messages unanswered after ${boundMs} ms`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** Closes every client. */
  async close(): Promise<void> {
    this.#running = false;
    await closeAll(this.#sockets);
  }
}
