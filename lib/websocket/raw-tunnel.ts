/**
 * One raw-proxied WebSocket connection after the upstream answered `101`: the client socket
 * and the upstream socket piped both ways (with backpressure) for the connection's life, pinned
 * to one instance. Frame headers are followed in both directions (never the payloads) so the
 * tunnel can enforce `maxPayload` and the message rate, ping an idle client, and close with a
 * proper close frame: 1012 when the instance dies or leaves routing, 1001 when the gateway stops.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Clock, TimerHandle } from '../clock.js';
import type { EvictionReason, PinnedConnection } from './connection-registry.js';
import {
  CLOSE_GOING_AWAY,
  CLOSE_POLICY_VIOLATION,
  CLOSE_SERVICE_RESTART,
  closeFrame,
  FrameScanner,
  pingFrame,
} from './frame-scanner.js';
import type { MessageBudget } from './message-budget.js';

/** What a tunnel needs besides its sockets. */
export interface RawTunnelOptions {
  /** Largest client message, in bytes. */
  maxPayload: number;
  /** The client's message budget; `undefined` when the rate limit is off. */
  budget: MessageBudget | undefined;
  clock: Clock;
  /** Time a closing tunnel may take before both sockets are destroyed. */
  closeTimeoutMs: number;
  /** Called once, when both sockets are closed. */
  onClosed: (tunnel: RawTunnel) => void;
}

/**
 * A pinned client ↔ upstream byte pipe.
 * @example
 * const tunnel = new RawTunnel('chat', 'a1', clientSocket, upstreamSocket, options);
 * tunnel.start(clientHead, responseHead, upstreamHead);
 */
export class RawTunnel implements PinnedConnection {
  readonly service: string;
  readonly instanceId: string;
  readonly #client: Duplex;
  readonly #upstream: Socket;
  readonly #opts: RawTunnelOptions;
  readonly #clientScan: FrameScanner;
  readonly #upstreamScan = new FrameScanner();
  #countedMessages = 0;
  /** Bytes arrived from the client since the last heartbeat tick. */
  #clientActive = true;
  #pingPending = false;
  #closing = false;
  #clientClosed = false;
  #upstreamClosed = false;
  #timer: TimerHandle | undefined;
  #finished = false;

  constructor(service: string, instanceId: string, client: Duplex, upstream: Socket, opts: RawTunnelOptions) {
    this.service = service;
    this.instanceId = instanceId;
    this.#client = client;
    this.#upstream = upstream;
    this.#opts = opts;
    this.#clientScan = new FrameScanner(opts.maxPayload);
  }

  /** Whether the tunnel is closing (no more data is relayed). */
  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Sends the `101` head to the client, relays the bytes that came with the handshakes, and
   * starts piping.
   */
  start(clientHead: Buffer, responseHead: string, upstreamHead: Buffer): void {
    const client = this.#client;
    const upstream = this.#upstream;
    (client as Socket).setNoDelay?.(true);
    upstream.setNoDelay(true);
    client.on('data', (chunk: Buffer) => this.#fromClient(chunk));
    upstream.on('data', (chunk: Buffer) => this.#fromUpstream(chunk));
    client.on('drain', () => upstream.resume());
    upstream.on('drain', () => client.resume());
    client.on('end', () => endSoftly(upstream));
    upstream.on('end', () => this.#upstreamDone());
    client.on('error', () => client.destroy());
    upstream.on('error', () => upstream.destroy());
    client.on('close', () => {
      this.#clientClosed = true;
      this.#afterClose(upstream, this.#upstreamClosed);
    });
    upstream.on('close', () => {
      this.#upstreamClosed = true;
      this.#upstreamDone();
      this.#afterClose(client, this.#clientClosed);
    });
    client.write(responseHead);
    if (upstreamHead.length > 0) this.#fromUpstream(upstreamHead);
    if (clientHead.length > 0) this.#fromClient(clientHead);
    client.resume();
    upstream.resume();
  }

  /** The instance left routing (died, deregistered, expired, DOWN): close with 1012. */
  evict(_reason: EvictionReason): void {
    this.close(CLOSE_SERVICE_RESTART, 'service restart');
  }

  /**
   * Closes both sides: a close frame with `code` to the client and 1001 to the upstream when a
   * frame boundary allows it, then FIN; both are destroyed after `closeTimeoutMs` at the latest.
   */
  close(code = CLOSE_GOING_AWAY, reason = 'gateway shutting down'): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#sendClientClose(code, reason);
    if (this.#upstream.writable && this.#clientScan.atBoundary) {
      this.#upstream.write(closeFrame(CLOSE_GOING_AWAY, reason, true));
    }
    endSoftly(this.#upstream);
    this.#armTimer();
  }

  /** Destroys both sockets at once. */
  destroy(): void {
    this.#closing = true;
    this.#client.destroy();
    this.#upstream.destroy();
  }

  /**
   * Heartbeat: a client silent for a whole interval is pinged (at a frame boundary); one silent
   * for the next interval too is half-open and is cut.
   */
  tick(): void {
    if (this.#closing) return;
    if (this.#clientActive) {
      this.#clientActive = false;
      this.#pingPending = false;
      return;
    }
    if (this.#pingPending) {
      this.destroy();
      return;
    }
    if (this.#client.writable && this.#upstreamScan.atBoundary && !this.#clientScan.closeSeen) {
      this.#client.write(pingFrame());
      this.#pingPending = true;
    }
  }

  #fromClient(chunk: Buffer): void {
    this.#clientActive = true;
    if (this.#closing) return;
    const code = this.#clientScan.push(chunk);
    if (code !== 0) {
      this.close(code, code === 1009 ? 'message too big' : 'protocol error');
      return;
    }
    const budget = this.#opts.budget;
    if (budget !== undefined) {
      const n = this.#clientScan.messages - this.#countedMessages;
      this.#countedMessages = this.#clientScan.messages;
      // The raw protocol is the service's: over-limit messages cannot be refused one by one,
      // so they pass until the client has kept it up for `rateLimitStrikes` messages.
      if (n > 0 && budget.take(n, this.#opts.clock.now()) > 0 && budget.exhausted) {
        this.close(CLOSE_POLICY_VIOLATION, 'message rate limit exceeded');
        return;
      }
    }
    if (!this.#upstream.write(chunk)) this.#client.pause();
  }

  #fromUpstream(chunk: Buffer): void {
    if (this.#closing) return;
    this.#upstreamScan.push(chunk);
    if (!this.#client.write(chunk)) this.#upstream.pause();
  }

  /** The upstream finished or vanished: a clean close was relayed already, else say 1012. */
  #upstreamDone(): void {
    if (this.#closing) return;
    this.#closing = true;
    if (!this.#upstreamScan.closeSeen) this.#sendClientClose(CLOSE_SERVICE_RESTART, 'service restart');
    endSoftly(this.#client);
    this.#armTimer();
  }

  #sendClientClose(code: number, reason: string): void {
    if (this.#client.writable && this.#upstreamScan.atBoundary && !this.#upstreamScan.closeSeen) {
      this.#client.write(closeFrame(code, reason, false));
    }
    endSoftly(this.#client);
  }

  /** One side closed: the other gets its FIN (and the close timer) or, when idle, is destroyed. */
  #afterClose(other: Duplex, otherClosed: boolean): void {
    if (this.#clientClosed && this.#upstreamClosed) {
      this.#finish();
      return;
    }
    if (otherClosed) return;
    // Data written just before the FIN may still be flushing: end, and destroy if it lingers.
    if (other.writableEnded) this.#armTimer();
    else other.destroy();
  }

  #armTimer(): void {
    if (this.#timer !== undefined || this.#finished) return;
    this.#timer = this.#opts.clock.setTimeout(() => this.destroy(), this.#opts.closeTimeoutMs);
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#closing = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#opts.onClosed(this);
  }
}

/** FIN, unless the stream is already ended or destroyed. */
function endSoftly(stream: Duplex): void {
  if (!stream.destroyed && !stream.writableEnded) stream.end();
}
