/**
 * One message-routing client's WebSocket to one instance of one service: opened on the
 * client's first message to that service, pinned until the instance goes away. Messages sent
 * while it connects are queued (bounded); ids sent and not yet answered are remembered so the
 * client can be told which requests were lost when the instance dies.
 */
import type { ConnectionOptions } from 'node:tls';
import WebSocket from 'ws';
import type { Clock, TimerHandle } from '../clock.js';
import type { EvictionReason, PinnedConnection } from './connection-registry.js';
import { CLOSE_GOING_AWAY } from './frame-scanner.js';
import type { MessageId } from './message-frames.js';
import { WriteBatch } from './write-batch.js';

/** How a link ended. */
export type LinkEnd =
  /** It never opened: refused, timed out, or the upstream answered something other than 101. */
  | { kind: 'failed'; connect: boolean; timeout: boolean; reason: string }
  /** It was open and the instance went away (closed, died, deregistered, DOWN). */
  | { kind: 'gone'; reason: string }
  /** The gateway closed it (client left, gateway closing): nobody needs to be told. */
  | { kind: 'closed' };

/** What a link reports to its owner. */
export interface UpstreamLinkHooks {
  /** The handshake completed. */
  onOpen(link: UpstreamLink): void;
  /** A frame from the service, to relay to the client as it is. */
  onMessage(link: UpstreamLink, data: Buffer, isBinary: boolean): void;
  /** The link ended; called exactly once. `queued`/`inflight` are the ids left unanswered. */
  onEnd(link: UpstreamLink, end: LinkEnd, queued: QueuedFrame[], inflight: MessageId[]): void;
}

/** A frame waiting for the link to open. */
export interface QueuedFrame {
  frame: string | Buffer;
  id: MessageId;
}

/** Options of an {@link UpstreamLink}. */
export interface UpstreamLinkOptions {
  /** Largest frame accepted from the service. */
  maxPayload: number;
  handshakeTimeoutMs: number;
  /** Time the close handshake may take before the socket is cut. */
  closeTimeoutMs: number;
  /** Frames kept while connecting. */
  maxQueued: number;
  clock: Clock;
  /** Headers of the upstream handshake (X-Forwarded-*, connection id). */
  headers: Record<string, string>;
  /** TLS options for `wss:` instances (lib/upstream/upstream-tls.ts); `undefined` for Node's defaults. */
  tls: ConnectionOptions | undefined;
  /** The subprotocol (the client's encoding, message-codec.ts) asked of the service; `undefined` for none. */
  protocol: string | undefined;
  /** Whether frames go as binary (MessagePack) or text (JSON). */
  binary: boolean;
}

/** Ids tracked per link beyond which the oldest are forgotten. */
const MAX_INFLIGHT = 4096;

/**
 * @example
 * const link = new UpstreamLink('chat', 'a1', 'ws://127.0.0.1:7812/ws', options, hooks);
 * link.send('{"path":"/chat/x","id":1}', 1);
 */
export class UpstreamLink implements PinnedConnection {
  readonly service: string;
  readonly instanceId: string;
  /** Resolves when the socket is closed for good. */
  readonly closed: Promise<void>;
  readonly #ws: WebSocket;
  readonly #opts: UpstreamLinkOptions;
  readonly #hooks: UpstreamLinkHooks;
  /** Frames sent in one turn leave in one write (write-batch.ts). */
  readonly #batch = new WriteBatch();
  #queue: QueuedFrame[] | undefined = [];
  /** Ids sent and not answered, with how many times each is outstanding (a client may reuse an id). */
  readonly #inflight = new Map<MessageId, number>();
  #opened = false;
  #ended = false;
  #alive = true;
  #failure: { connect: boolean; timeout: boolean; reason: string } | undefined;
  #timer: TimerHandle | undefined;

  constructor(service: string, instanceId: string, url: string, opts: UpstreamLinkOptions, hooks: UpstreamLinkHooks) {
    this.service = service;
    this.instanceId = instanceId;
    this.#opts = opts;
    this.#hooks = hooks;
    const ws = new WebSocket(url, opts.protocol === undefined ? [] : [opts.protocol], {
      perMessageDeflate: false,
      maxPayload: opts.maxPayload,
      headers: opts.headers,
      followRedirects: false,
      ...opts.tls,
    });
    this.#ws = ws;
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
    this.#timer = opts.clock.setTimeout(() => {
      this.#failure = { connect: true, timeout: true, reason: 'handshake timed out' };
      ws.terminate();
    }, opts.handshakeTimeoutMs);
    ws.on('upgrade', (res) => this.#batch.attach(res.socket));
    ws.on('open', () => this.#onOpen());
    ws.on('message', (data, isBinary) => this.#onMessage(data as Buffer, isBinary));
    ws.on('pong', () => {
      this.#alive = true;
    });
    ws.on('error', (err: Error & { code?: string }) => {
      if (this.#opened || this.#failure !== undefined) return;
      const refused = typeof err.code === 'string' && err.code.startsWith('E');
      this.#failure = { connect: refused, timeout: false, reason: err.code ?? err.message };
    });
    ws.on('close', (code, reason) => {
      this.#timer?.cancel();
      if (this.#opened) this.#end({ kind: 'gone', reason: `closed ${code}${reason.length > 0 ? ` ${reason}` : ''}` });
      else this.#end({ kind: 'failed', ...(this.#failure ?? { connect: true, timeout: false, reason: 'closed' }) });
    });
  }

  /** Whether the link still carries messages. */
  get usable(): boolean {
    return !this.#ended;
  }

  /** Whether the handshake completed. */
  get open(): boolean {
    return this.#opened;
  }

  /**
   * Sends (or queues while connecting) a frame for the service.
   * @returns false when the link is gone or its queue is full.
   */
  send(frame: string | Buffer, id: MessageId): boolean {
    if (this.#ended) return false;
    if (this.#queue !== undefined) {
      if (this.#queue.length >= this.#opts.maxQueued) return false;
      this.#queue.push({ frame, id });
      return true;
    }
    this.#track(id);
    this.#batch.hold();
    this.#ws.send(frame, { binary: this.#opts.binary });
    return true;
  }

  /**
   * Sends a frame that expects no answer from the service (a client's reply to a request the
   * service made): not tracked as in flight.
   * @returns false when the link is gone.
   */
  sendUntracked(frame: string | Buffer): boolean {
    if (this.#ended || this.#queue !== undefined) return false;
    this.#batch.hold();
    this.#ws.send(frame, { binary: this.#opts.binary });
    return true;
  }

  /**
   * Settles a request id this link carried: true (and forgotten) when the id was sent on this
   * link and not answered yet, false otherwise (a reply the instance has no right to send).
   */
  answered(id: MessageId): boolean {
    const n = this.#inflight.get(id);
    if (n === undefined) return false;
    if (n > 1) this.#inflight.set(id, n - 1);
    else this.#inflight.delete(id);
    return true;
  }

  /** The instance left routing: the client is told at once, the socket closes behind. */
  evict(reason: EvictionReason): void {
    if (this.#ended) return;
    if (this.#opened) this.#end({ kind: 'gone', reason: `instance ${reason}` });
    else {
      this.#failure = { connect: true, timeout: false, reason: `instance ${reason}` };
      this.#end({ kind: 'failed', ...this.#failure });
    }
    this.#shut(CLOSE_GOING_AWAY, 'instance left routing');
  }

  /** Closes the link quietly (the client left or the gateway is closing). */
  close(): void {
    this.#end({ kind: 'closed' });
    this.#shut(CLOSE_GOING_AWAY, 'client gone');
  }

  /** Heartbeat: a link that missed the previous ping is cut (and reported gone). */
  tick(): void {
    if (!this.#opened || this.#ended) return;
    if (!this.#alive) {
      this.#ws.terminate();
      return;
    }
    this.#alive = false;
    this.#ws.ping();
  }

  #onOpen(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#opened = true;
    const queue = this.#queue ?? [];
    this.#queue = undefined;
    if (this.#ended) return;
    this.#hooks.onOpen(this);
    if (queue.length > 0) this.#batch.hold();
    for (const q of queue) {
      this.#track(q.id);
      this.#ws.send(q.frame, { binary: this.#opts.binary });
    }
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    this.#alive = true;
    if (this.#ended) return;
    this.#hooks.onMessage(this, data, isBinary);
  }

  #track(id: MessageId): void {
    if (this.#inflight.size >= MAX_INFLIGHT) this.#inflight.delete(this.#inflight.keys().next().value!);
    this.#inflight.set(id, (this.#inflight.get(id) ?? 0) + 1);
  }

  #end(end: LinkEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    const queued = this.#queue ?? [];
    this.#queue = undefined;
    const inflight = [...this.#inflight.keys()];
    this.#inflight.clear();
    this.#hooks.onEnd(this, end, queued, inflight);
  }

  /** Starts the close handshake, or aborts a handshake in progress; cuts it after closeTimeoutMs. */
  #shut(code: number, reason: string): void {
    const ws = this.#ws;
    if (ws.readyState === WebSocket.CLOSED) return;
    if (ws.readyState === WebSocket.CONNECTING) {
      ws.terminate();
      return;
    }
    ws.close(code, reason);
    this.#timer?.cancel();
    this.#timer = this.#opts.clock.setTimeout(() => ws.terminate(), this.#opts.closeTimeoutMs);
    ws.once('close', () => this.#timer?.cancel());
  }
}
