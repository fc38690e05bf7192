/**
 * A tiny upstream service for e2e tests: a `node:http` server on a free loopback port that
 * answers `GET /health` with 200 and every other request with JSON naming itself, so a test can
 * tell which instance a proxied request reached.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What an upstream answers (anything but `/health`). */
export interface UpstreamReply {
  /** The label the upstream was started with. */
  upstream: string;
  method: string;
  /** The path the upstream received (after the gateway's rewriting). */
  path: string;
}

/** A running upstream. */
export interface Upstream extends AsyncDisposable {
  readonly label: string;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Requests served (health checks excluded). */
  readonly served: number;
  close(): Promise<void>;
}

/** The request handler every upstream uses, in process or in a child. */
export function upstreamHandler(label: string, onServed: () => void = () => {}) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = req.url ?? '/';
    if (path === '/health') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    onServed();
    const body = JSON.stringify({ upstream: label, method: req.method ?? 'GET', path } satisfies UpstreamReply);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  };
}

/**
 * Starts an upstream on `127.0.0.1:0`.
 * @example
 * await using up = await startUpstream('orders-1');
 * registerService({ gateway, service: 'orders', url: up.url, routes: [{ method: 'GET', path: '/api/orders/**' }] });
 */
export async function startUpstream(label: string): Promise<Upstream> {
  let served = 0;
  const server: Server = createServer(upstreamHandler(label, () => served++));
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };
  return {
    label,
    url: `http://127.0.0.1:${port}`,
    get served() {
      return served;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
