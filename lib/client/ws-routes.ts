/**
 * `serveMessageRoutes()`: the service side of the gateway's message routing. The gateway opens
 * one WebSocket per client to the instance's message endpoint (`metadata.ws_path`, default `/ws`)
 * and sends `{"path","id","data"}` frames; this helper dispatches them by path pattern to
 * handlers and answers `{"id","data"}` or `{"id","error":{"code","message"}}`. Per link it runs
 * the `onOpen`/`onClose` hooks once each, keeps `ctx.socket` state and lets handlers ask the
 * client (`ctx.request()`), in JSON or MessagePack as the gateway negotiated (ws-link.ts).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { type Clock, realClock } from '../clock.js';
import { mergeDefined } from '../core/options-merge.js';
import { isPathFailure, normalizePath } from '../core/path-normalize.js';
import {
  type CompiledPattern,
  comparePatterns,
  compilePattern,
  matchSegments,
  splitSegments,
} from '../core/route-pattern.js';
import type { RouteSpec } from '../registry/model.js';
import { codecFor, type MessageCodec, selectSubprotocol } from '../websocket/message-codec.js';
import { type ConnectionContext, GatewayLink, type LinkCloseInfo } from './ws-link.js';

/** What a handler learns about the message besides its `data`. */
export interface MessageContext extends ConnectionContext {
  /** The message path, normalised, e.g. `/chat/room1`. */
  readonly path: string;
  /** The client's message id. */
  readonly id: string | number;
  /** Values of `:name` segments of the matched pattern. */
  readonly params: Record<string, string>;
}

/** Handles one message; its return value (or resolved value) is the reply's `data`. Throw to answer an error. */
export type MessageHandler = (data: unknown, ctx: MessageContext) => unknown;

/** Options of {@link serveMessageRoutes}. */
export interface ServeMessageRoutesOptions {
  /** The endpoint path; register it as `metadata.ws_path` when it is not the default. @default '/ws' */
  path: string;
  /** Largest frame accepted, in bytes. @default 1048576 */
  maxPayload: number;
  /** Address to listen on when given `{ port }`. @default '127.0.0.1' */
  host: string;
  /**
   * Called once when a client is pinned to this instance (its link opens), before its first
   * message is handled (Eurus `UseOpen`). @default undefined
   */
  onOpen: ((ctx: ConnectionContext) => unknown) | undefined;
  /**
   * Called once when that client leaves or is re-pinned elsewhere (the link closes), after its
   * pending `ctx.request()`s failed; `ctx.socket` is still readable (Eurus `UseClose`). @default undefined
   */
  onClose: ((ctx: ConnectionContext, info: LinkCloseInfo) => unknown) | undefined;
  /** Default wait of `ctx.request()` for the client's answer. @default 10000 */
  requestTimeoutMs: number;
  /** Timer source of request timeouts and durations. @default realClock */
  clock: Clock;
}

/** Defaults of {@link ServeMessageRoutesOptions}. Frozen. */
export const SERVE_MESSAGE_ROUTES_DEFAULTS: Readonly<ServeMessageRoutesOptions> = Object.freeze({
  path: '/ws',
  maxPayload: 1024 * 1024,
  host: '127.0.0.1',
  onOpen: undefined,
  onClose: undefined,
  requestTimeoutMs: 10_000,
  clock: realClock,
});

/** The handle of {@link serveMessageRoutes}. */
export interface MessageRoutesServer extends AsyncDisposable {
  /** The HTTP server the endpoint lives on. */
  readonly server: Server;
  /** Its port. */
  readonly port: number;
  /** Connected gateway links (one per client per service). */
  readonly connections: number;
  /** The routes as `RouteSpec`s to register (`protocol: 'ws'`), public unless told otherwise. */
  routeSpecs(options?: { public?: boolean }): RouteSpec[];
  /** Closes every link (1001) and, when it created the server, the server. Idempotent. */
  close(): Promise<void>;
}

interface CompiledRoute {
  compiled: CompiledPattern;
  handler: MessageHandler;
}

/**
 * Serves message routes on an existing server (its `upgrade` event, for the endpoint path only)
 * or on a new one listening on `{ port }`.
 * @example
 * const ws = await serveMessageRoutes({ port: 0 }, {
 *   '/chat/:room': async (data, ctx) => ({ room: ctx.params.room, echo: data }),
 * });
 * registerService({ gateway, service: 'chat', url: `http://127.0.0.1:${ws.port}`, routes: ws.routeSpecs() });
 */
export async function serveMessageRoutes(
  target: Server | { port: number; host?: string },
  routes: Record<string, MessageHandler>,
  options: Partial<ServeMessageRoutesOptions> = {},
): Promise<MessageRoutesServer> {
  const opts = mergeDefined(SERVE_MESSAGE_ROUTES_DEFAULTS, options);
  const table: CompiledRoute[] = Object.entries(routes)
    .map(([pattern, handler]) => ({ compiled: compilePattern(pattern), handler }))
    .sort((a, b) => comparePatterns(a.compiled, b.compiled));
  const owned = !('on' in target);
  const server: Server = owned ? createServer((_req, res) => res.writeHead(404).end()) : target;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.maxPayload,
    perMessageDeflate: false,
    handleProtocols: (offered) => selectSubprotocol(offered),
  });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === opts.path) {
      wss.handleUpgrade(req, socket, head, (ws) => serve(ws, req, table, opts));
    } else if (server.listenerCount('upgrade') === 1) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', () => socket.destroy());
    }
  };
  server.on('upgrade', onUpgrade);
  if (owned) {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(target.port, target.host ?? opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }
  let closing: Promise<void> | undefined;
  const handle: MessageRoutesServer = {
    server,
    get port() {
      return (server.address() as AddressInfo | null)?.port ?? 0;
    },
    get connections() {
      return wss.clients.size;
    },
    routeSpecs: ({ public: isPublic = true } = {}) =>
      Object.keys(routes).map((path) => ({ method: '*', path, protocol: 'ws', public: isPublic })),
    close() {
      closing ??= (async () => {
        server.off('upgrade', onUpgrade);
        const gone = [...wss.clients].map((ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())));
        for (const ws of wss.clients) ws.terminate();
        await Promise.all(gone);
        wss.close();
        if (owned) {
          await new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          });
        }
      })();
      return closing;
    },
    [Symbol.asyncDispose]: () => handle.close(),
  };
  return handle;
}

function serve(
  ws: WebSocket,
  req: IncomingMessage,
  table: readonly CompiledRoute[],
  opts: ServeMessageRoutesOptions,
): void {
  const codec = codecFor(ws.protocol);
  const link = new GatewayLink(ws, req, codec, opts);
  // Messages wait for onOpen, so a handler always sees what the hook stored.
  const opened = Promise.resolve()
    .then(() => opts.onOpen?.(link.context))
    .catch(() => undefined);
  ws.on('error', () => {});
  ws.on('message', (raw: RawData, isBinary: boolean) => {
    void opened.then(() => dispatch(link, codec, raw as Buffer, isBinary, table));
  });
  ws.once('close', (code: number) => {
    link.end(code);
    void opened
      .then(() => opts.onClose?.(link.context, { durationMs: opts.clock.now() - link.openedAt, code }))
      .catch(() => undefined)
      .finally(() => link.clear());
  });
}

async function dispatch(
  link: GatewayLink,
  codec: MessageCodec,
  raw: Buffer,
  isBinary: boolean,
  table: readonly CompiledRoute[],
): Promise<void> {
  const msg = isBinary === codec.binary ? decodeObject(codec, raw) : undefined;
  if (msg === undefined || !isId(msg.id) || (msg.path !== undefined && typeof msg.path !== 'string')) {
    // Answer with the id the gateway could read, so the reply reaches the client.
    const fields = isBinary === codec.binary ? codec.scan(raw) : undefined;
    const id = fields?.ok && isId(fields.id) ? fields.id : fields !== undefined && !fields.ok ? fields.id : null;
    const expected = codec.binary ? 'a MessagePack map' : 'a JSON text frame';
    link.send({ id, error: { code: 'ERR_FG_INVALID_BODY', message: `expected ${expected} {"path","id","data"}` } });
    return;
  }
  const id = msg.id;
  if (msg.path === undefined) {
    // The client's answer to ctx.request(); anything else without a path has nothing to answer.
    link.settle(id, msg);
    return;
  }
  const norm = normalizePath(msg.path);
  const path = isPathFailure(norm) ? undefined : norm.path;
  const segments = path === undefined ? [] : splitSegments(path);
  let found: { route: CompiledRoute; params: Record<string, string> } | undefined;
  if (path !== undefined) {
    for (const route of table) {
      const params = matchSegments(route.compiled, segments);
      if (params !== undefined) {
        found = { route, params };
        break;
      }
    }
  }
  if (found === undefined || path === undefined) {
    link.send({ id, error: { code: 'ERR_FG_NO_ROUTE', message: `no handler for ${String(msg.path)}` } });
    return;
  }
  const ctx: MessageContext = { ...link.context, path, id, params: found.params };
  try {
    const data = await found.route.handler(msg.data, ctx);
    link.send({ id, data: data ?? null });
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown } | null;
    link.send({
      id,
      error: {
        code: typeof e?.code === 'string' ? e.code : 'ERR_HANDLER',
        message: typeof e?.message === 'string' ? e.message : String(err),
      },
    });
  }
}

function decodeObject(
  codec: MessageCodec,
  raw: Buffer,
): { path?: unknown; id?: unknown; data?: unknown; error?: unknown } | undefined {
  try {
    const v: unknown = codec.decode(raw);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isId(v: unknown): v is string | number {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}
