/**
 * Test fleet for the WebSocket e2e tests: real `ws` upstream servers on 127.0.0.1 that say who
 * they are, a real Registry on a MemoryBackend, a gateway server (bare node:http or Express)
 * with `websocketGateway()` attached, and small waiting helpers with deadlines.
 */
import { readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import express from 'express';
import WebSocket, { WebSocketServer } from 'ws';
import { MemoryBackend } from '../lib/registry/backends/memory.js';
import type { RouteSpec } from '../lib/registry/model.js';
import { Registry } from '../lib/registry/registry.js';
import { type WebSocketGateway, websocketGateway } from '../lib/websocket/websocket-gateway.js';
import type { WebSocketGatewayOptions } from '../lib/websocket/websocket-options.js';

/** An upstream instance: echoes every message as `{"instance","path","data"}`. */
export interface EchoInstance extends AsyncDisposable {
  readonly id: string;
  readonly url: string;
  readonly server: Server;
  /** Open upstream connections right now. */
  readonly open: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Pongs received (clients answer the gateway's pings; the pong travels on to the upstream). */
  readonly pongs: number;
  /** Crash: every socket cut without a close frame, the listener gone. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

/** Starts an echo instance on a free loopback port. */
export async function startEchoInstance(id: string): Promise<EchoInstance> {
  const server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  let accepted = 0;
  let pongs = 0;
  wss.on('connection', (ws, req) => {
    accepted++;
    ws.on('error', () => {});
    ws.on('pong', () => {
      pongs++;
    });
    ws.on('message', (data, isBinary) => {
      ws.send(isBinary ? data : JSON.stringify({ instance: id, path: req.url, data: data.toString() }), {
        binary: isBinary,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  const stop = (hard: boolean): Promise<void> => {
    stopped ??= (async () => {
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const ws of wss.clients) ws.terminate();
      if (hard) for (const s of sockets) s.destroy();
      wss.close();
      server.closeAllConnections();
      await done;
    })();
    return stopped;
  };
  return {
    id,
    url: `http://127.0.0.1:${port}`,
    server,
    get open() {
      return wss.clients.size;
    },
    get accepted() {
      return accepted;
    },
    get pongs() {
      return pongs;
    },
    kill: () => stop(true),
    close: () => stop(false),
    [Symbol.asyncDispose]: () => stop(false),
  };
}

/** A registry on a fresh MemoryBackend, ready. */
export async function startRegistry(): Promise<Registry> {
  const registry = new Registry({ backend: new MemoryBackend(), ownsBackend: true });
  await registry.ready();
  return registry;
}

/** Registers `inst` as an instance of `service` with `routes`. */
export async function registerInstance(
  registry: Registry,
  service: string,
  inst: { id: string; url: string },
  routes: RouteSpec[],
  metadata: Record<string, unknown> = {},
): Promise<void> {
  await registry.register({ service, instanceId: inst.id, url: inst.url, routes, metadata });
}

/** A gateway server with the WebSocket gateway attached. */
export interface GatewayServer extends AsyncDisposable {
  readonly server: Server;
  readonly ws: WebSocketGateway;
  /** `ws://127.0.0.1:port` */
  readonly base: string;
  close(): Promise<void>;
}

/** Starts a bare node:http or an Express server on a free port and attaches the WebSocket gateway. */
export async function startGateway(
  options: Partial<WebSocketGatewayOptions> & Pick<WebSocketGatewayOptions, 'registry'>,
  kind: 'http' | 'express' = 'http',
): Promise<GatewayServer> {
  const ws = websocketGateway(options);
  let server: Server;
  if (kind === 'express') {
    const app = express();
    app.get('/hello', (_req, res) => {
      res.json({ hello: 'express' });
    });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
  } else {
    server = createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  }
  ws.attach(server);
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await ws.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    })();
    return closing;
  };
  return { server, ws, base: `ws://127.0.0.1:${port}`, close, [Symbol.asyncDispose]: close };
}

/** Opens a client (offering `protocols`, if any) and waits for `open`; rejects with the handshake failure. */
export function openClient(
  url: string,
  options: WebSocket.ClientOptions = {},
  protocols: string[] = [],
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { perMessageDeflate: false, ...options });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body })));
    });
  });
}

/** Collects a client's messages; `next()` resolves with the next one (or rejects after `ms`). */
export class Inbox {
  readonly #queue: string[] = [];
  readonly #waiters: ((m: string) => void)[] = [];
  constructor(ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      const w = this.#waiters.shift();
      if (w === undefined) this.#queue.push(text);
      else w(text);
    });
  }

  /** Messages not taken yet. */
  get size(): number {
    return this.#queue.length;
  }

  next(ms = 5000): Promise<string> {
    const q = this.#queue.shift();
    if (q !== undefined) return Promise.resolve(q);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new Error(`no message within ${ms} ms`));
      }, ms);
      const waiter = (m: string): void => {
        clearTimeout(timer);
        resolve(m);
      };
      this.#waiters.push(waiter);
    });
  }

  /** The next message, parsed. */
  async json<T = Record<string, unknown>>(ms?: number): Promise<T> {
    return JSON.parse(await this.next(ms)) as T;
  }
}

/** Resolves with the close code and reason once `ws` is closed (rejects after `ms`). */
export function closedWith(ws: WebSocket, ms = 5000): Promise<{ code: number; reason: string }> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve({ code: -1, reason: 'already closed' });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not closed within ${ms} ms`)), ms);
    ws.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
  });
}

/** Polls `cond` every 10 ms until it is true; throws naming `what` after `ms`. */
export async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Open file descriptors of this process. */
export function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}
