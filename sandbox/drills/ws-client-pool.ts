/**
 * WebSocket clients for drills: each connects to a gateway's message endpoint, sends
 * `{"path","id","data"}` every `intervalMs` with a fresh id (never resent), and reconnects (to
 * the next gateway, after a short pause) whenever its connection closes. Bounded: stop() ends it.
 */
import WebSocket from 'ws';

/** Options of {@link WsClientPool}. */
export interface WsClientPoolOptions {
  gateways: readonly string[];
  clients: number;
  /** The message path to send to. */
  path: string;
  /** @default 50 */
  intervalMs?: number;
  /** The gateway's message endpoint. @default '/ws' */
  endpoint?: string;
}

interface ClientState {
  n: number;
  socket: WebSocket | undefined;
  open: boolean;
  lastAnswer: number;
  gateway: number;
}

/** A pool of reconnecting message-routing clients. */
export class WsClientPool {
  readonly #o: Required<WsClientPoolOptions>;
  readonly #clients: ClientState[] = [];
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #seq = 0;
  #sent = 0;
  #reconnects = 0;
  #duplicates = 0;
  readonly #answered = new Set<string>();
  readonly #errors: number[] = [];

  constructor(options: WsClientPoolOptions) {
    this.#o = { intervalMs: 50, endpoint: '/ws', ...options };
  }

  /** Connects every client and starts sending. */
  start(): void {
    this.#running = true;
    for (let n = 0; n < this.#o.clients; n++) {
      const c: ClientState = { n, socket: undefined, open: false, lastAnswer: 0, gateway: n };
      this.#clients.push(c);
      this.#connect(c);
    }
    this.#timer = setInterval(() => this.#tick(), this.#o.intervalMs);
  }

  /** Stops sending and closes every connection. */
  async stop(): Promise<void> {
    this.#running = false;
    clearInterval(this.#timer);
    await Promise.all(
      this.#clients.map(
        (c) =>
          new Promise<void>((resolve) => {
            const s = c.socket;
            if (s === undefined || s.readyState === WebSocket.CLOSED) return resolve();
            s.once('close', () => resolve());
            s.terminate();
          }),
      ),
    );
  }

  /** Every client got a successful answer at or after `since`. */
  allAnsweredSince(since: number): boolean {
    return this.#clients.length > 0 && this.#clients.every((c) => c.lastAnswer > 0 && c.lastAnswer >= since);
  }

  /** Clients whose connection is open. */
  connected(): number {
    return this.#clients.filter((c) => c.open).length;
  }

  /** Messages sent. */
  sent(): number {
    return this.#sent;
  }

  /** Reconnections made. */
  reconnects(): number {
    return this.#reconnects;
  }

  /** Replies received twice for one id. */
  duplicateReplies(): number {
    return this.#duplicates;
  }

  /** Error replies received at or after `since`. */
  errorsSince(since: number): number {
    return this.#errors.filter((t) => t >= since).length;
  }

  #connect(c: ClientState): void {
    if (!this.#running) return;
    const base = this.#o.gateways[c.gateway % this.#o.gateways.length] as string;
    const socket = new WebSocket(`${base.replace(/^http/, 'ws')}${this.#o.endpoint}`);
    c.socket = socket;
    socket.on('open', () => {
      c.open = true;
    });
    socket.on('message', (raw) => {
      let msg: { id?: unknown; data?: unknown; error?: unknown };
      try {
        msg = JSON.parse(String(raw)) as typeof msg;
      } catch {
        return;
      }
      if (msg.id === undefined || msg.id === null) return;
      const id = String(msg.id);
      if (this.#answered.has(id)) this.#duplicates++;
      this.#answered.add(id);
      if (msg.error !== undefined) this.#errors.push(Date.now());
      else c.lastAnswer = Date.now();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      c.open = false;
      if (!this.#running) return;
      this.#reconnects++;
      c.gateway++;
      setTimeout(() => this.#connect(c), 100);
    });
  }

  #tick(): void {
    for (const c of this.#clients) {
      if (!c.open || c.socket?.readyState !== WebSocket.OPEN) continue;
      const id = `c${c.n}-${++this.#seq}`;
      this.#sent++;
      c.socket.send(JSON.stringify({ path: this.#o.path, id, data: { n: c.n } }));
    }
  }
}
