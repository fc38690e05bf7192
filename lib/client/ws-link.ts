/**
 * The service side of one gateway link (one client connection pinned to this instance, for one
 * service): the state `ctx.socket` holds for it, the requests this instance sent the client
 * (`ctx.request()`) and what hooks and handlers are given as `ctx`. Used by ws-routes.ts.
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { Clock, TimerHandle } from '../clock.js';
import { FleetgateError } from '../errors.js';
import type { MessageCodec } from '../websocket/message-codec.js';

/** Values kept for one client connection on this instance (Eurus `SetOnSocket` / `MustGetFromSocket`). */
export interface SocketState {
  /** The value stored under `key`, or undefined. */
  get<T = unknown>(key: string): T | undefined;
  /** Stores a value for the rest of this connection's pin to this instance. */
  set(key: string, value: unknown): void;
  /**
   * The value stored under `key`.
   * @throws FleetgateError `ERR_FG_WS_SOCKET_VALUE_MISSING` when nothing is stored (the handler's
   * client then gets `{"id","error":{"code":"ERR_FG_WS_SOCKET_VALUE_MISSING",…}}`).
   */
  mustGet<T = unknown>(key: string): T;
  has(key: string): boolean;
  delete(key: string): boolean;
}

/** Options of {@link ConnectionContext.request}. */
export interface ClientRequestOptions {
  /** The `path` the client sees, e.g. `/monitor/start`. */
  path: string;
  /** How long to wait for the answer. @default the server's `requestTimeoutMs` (10 s) */
  timeoutMs?: number;
}

/** What hooks and handlers know about the client connection. */
export interface ConnectionContext {
  /** The gateway's id for the client connection (`X-Fleetgate-Connection`), when routed by fleetgate. */
  readonly connectionId: string | undefined;
  /**
   * True when the instance this client was pinned to before went away and this is the new pin:
   * `socket` starts empty, whatever the old instance stored is lost.
   */
  readonly repinned: boolean;
  /** State scoped to (client connection, this instance), dropped when the link closes. */
  readonly socket: SocketState;
  /** Aborted when the link closes (the client left, or the gateway re-pinned it elsewhere). */
  readonly signal: AbortSignal;
  /** The encoding of this link: `json` or `msgpack`. */
  readonly encoding: MessageCodec['name'];
  /** The upstream WebSocket from the gateway (one per client per service). */
  readonly ws: WebSocket;
  /** Sends an unsolicited frame `{"path"?, "data"}` to this client (pushes, broadcasts). */
  push(data: unknown, path?: string): void;
  /**
   * Asks the client (Eurus `RequestInto`): sends `{"path","id","data"}` and resolves with the
   * `data` of the client's `{"id","data"}` answer, or rejects with the client's `{"id","error"}`.
   * @throws FleetgateError `ERR_FG_WS_REQUEST_TIMEOUT` when no answer comes within `timeoutMs`,
   * `ERR_FG_WS_CLIENT_GONE` when the link is or becomes closed first.
   * @example const metrics = await ctx.request({ ts: Date.now() }, { path: '/monitor/start', timeoutMs: 1000 });
   */
  request<T = unknown>(data: unknown, options: ClientRequestOptions): Promise<T>;
}

/** How a link ended, for `onClose`. */
export interface LinkCloseInfo {
  /** From the link's opening to its close. */
  durationMs: number;
  /** The WebSocket close code the link ended with (1001 when the client left, 1006 when cut). */
  code: number;
}

interface Pending {
  resolve(data: unknown): void;
  reject(err: Error): void;
  timer: TimerHandle;
}

/** Options of a {@link GatewayLink}. */
export interface GatewayLinkOptions {
  clock: Clock;
  requestTimeoutMs: number;
}

/**
 * @example
 * const link = new GatewayLink(ws, req, JSON_CODEC, { clock: realClock, requestTimeoutMs: 10_000 });
 * await onOpen?.(link.context);
 */
export class GatewayLink {
  /** The context shared by the hooks of this link; message contexts extend it. */
  readonly context: ConnectionContext;
  /** `clock.now()` when the link opened. */
  readonly openedAt: number;
  readonly #ws: WebSocket;
  readonly #codec: MessageCodec;
  readonly #opts: GatewayLinkOptions;
  readonly #state = new Map<string, unknown>();
  readonly #pending = new Map<number, Pending>();
  readonly #abort = new AbortController();
  #seq = 0;

  constructor(ws: WebSocket, req: IncomingMessage, codec: MessageCodec, opts: GatewayLinkOptions) {
    this.#ws = ws;
    this.#codec = codec;
    this.#opts = opts;
    this.openedAt = opts.clock.now();
    const header = req.headers['x-fleetgate-connection'];
    const state = this.#state;
    const socket: SocketState = {
      get: <T>(key: string) => state.get(key) as T | undefined,
      set: (key, value) => {
        state.set(key, value);
      },
      mustGet: <T>(key: string): T => {
        if (!state.has(key)) {
          throw new FleetgateError('ERR_FG_WS_SOCKET_VALUE_MISSING', `no value "${key}" is stored for this connection`);
        }
        return state.get(key) as T;
      },
      has: (key) => state.has(key),
      delete: (key) => state.delete(key),
    };
    this.context = Object.freeze({
      connectionId: typeof header === 'string' ? header : undefined,
      repinned: req.headers['x-fleetgate-repinned'] === '1',
      socket,
      signal: this.#abort.signal,
      encoding: codec.name,
      ws,
      push: (data: unknown, path?: string) => this.send(path === undefined ? { data } : { path, data }),
      request: <T>(data: unknown, options: ClientRequestOptions) => this.#request<T>(data, options),
    });
  }

  /** Sends one frame in the link's encoding (nothing when it is closed). */
  send(frame: unknown): void {
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.send(this.#codec.encode(frame), { binary: this.#codec.binary });
  }

  /** Settles a request with the client's answer; false when `id` is not one this link is waiting for. */
  settle(id: unknown, answer: { data?: unknown; error?: unknown }): boolean {
    const p = typeof id === 'number' ? this.#pending.get(id) : undefined;
    if (p === undefined) return false;
    this.#pending.delete(id as number);
    p.timer.cancel();
    if (answer.error === undefined) p.resolve(answer.data);
    else {
      const e = answer.error as { code?: unknown; message?: unknown } | null;
      const message = typeof e?.message === 'string' ? e.message : 'the client answered with an error';
      p.reject(Object.assign(new Error(message), { code: typeof e?.code === 'string' ? e.code : 'ERR_CLIENT' }));
    }
    return true;
  }

  /** The link closed: pending requests fail with `ERR_FG_WS_CLIENT_GONE` and the signal aborts. */
  end(code: number): void {
    const gone = new FleetgateError('ERR_FG_WS_CLIENT_GONE', `the client connection closed (${code})`);
    for (const p of this.#pending.values()) {
      p.timer.cancel();
      p.reject(gone);
    }
    this.#pending.clear();
    this.#abort.abort(gone);
  }

  /** Drops the socket state (after `onClose` had its last look). */
  clear(): void {
    this.#state.clear();
  }

  #request<T>(data: unknown, options: ClientRequestOptions): Promise<T> {
    if (this.#abort.signal.aborted || this.#ws.readyState !== this.#ws.OPEN) {
      return Promise.reject(new FleetgateError('ERR_FG_WS_CLIENT_GONE', 'the client connection is closed'));
    }
    const id = ++this.#seq;
    const ms = options.timeoutMs ?? this.#opts.requestTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      const timer = this.#opts.clock.setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new FleetgateError('ERR_FG_WS_REQUEST_TIMEOUT', `the client did not answer ${options.path} within ${ms} ms`),
        );
      }, ms);
      this.#pending.set(id, { resolve: resolve as (d: unknown) => void, reject, timer });
      this.send({ path: options.path, id, data });
    });
  }
}
