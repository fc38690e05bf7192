/**
 * Test support for the auth middlewares: a gateway on 127.0.0.1 made of the middlewares under
 * test in front of a real `discoveryProxy()` and an echo upstream (which answers the headers it
 * received), so tests see exactly what a service would get.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { compose, type Middleware } from '../http/compose.js';
import { type DiscoveryProxy, discoveryProxy } from '../proxy/discovery-proxy.js';
import type { Registry } from '../registry/registry.js';
import type { StaticRoute } from '../routing/types.js';
import { echoUpstream, memoryRegistry, registerInstance, type TestServer } from '../test-support/http-test-kit.js';

/** A gateway under test. */
export interface AuthGateway extends AsyncDisposable {
  readonly base: string;
  readonly upstream: TestServer;
  readonly registry: Registry;
  readonly proxy: DiscoveryProxy;
}

/**
 * Starts an echo service `sagjan` with furt's comment routes, a registry, a proxy with
 * `staticRoutes` (whose `target` may be the string `'upstream'`), and a server running
 * `middlewares(proxy)` then the proxy.
 */
export async function authGateway(
  middlewares: (proxy: DiscoveryProxy) => Middleware[],
  staticRoutes: StaticRoute[] = [],
): Promise<AuthGateway> {
  const upstream = await echoUpstream('sagjan');
  const registry = await memoryRegistry();
  await registerInstance(registry, 'sagjan', upstream.url, [
    { method: 'GET', path: '/api/comments/*', permission: 'comments:read' },
    { method: 'POST', path: '/api/comments/*', permission: 'comments:write' },
    { method: 'GET', path: '/api/public/**' },
  ]);
  const proxy = discoveryProxy({
    registry,
    staticRoutes: staticRoutes.map((r) => (r.target === 'upstream' ? { ...r, target: upstream.url } : r)),
  });
  const handler = compose([...middlewares(proxy), proxy as Middleware]);
  const server: Server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    upstream,
    registry,
    proxy,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await proxy.close();
      await registry.close();
      await upstream.close();
    },
  };
}

/** The echo upstream's answer. */
export interface Echo {
  name: string;
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A request object with the fields the middleware reads. */
export function fakeRequest(
  headers: Record<string, string>,
  address = '192.0.2.7',
  method = 'GET',
  url = '/api/comments/1',
): IncomingMessage {
  const rawHeaders: string[] = [];
  for (const [k, v] of Object.entries(headers)) rawHeaders.push(k, v);
  return {
    method,
    url,
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    rawHeaders,
    socket: { remoteAddress: address },
  } as unknown as IncomingMessage;
}

/** A response that records what was written. */
export function fakeResponse(): {
  res: ServerResponse;
  status(): number;
  body(): string;
  header(name: string): unknown;
  done: Promise<void>;
} {
  let status = 0;
  let text = '';
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const res = {
    headersSent: false,
    writableEnded: false,
    req: { method: 'GET', headers: {} },
    headers: {} as Record<string, unknown>,
    writeHead(s: number, h?: Record<string, unknown>) {
      status = s;
      res.headers = { ...h };
      return res;
    },
    end(b?: string) {
      text = b ?? '';
      res.writableEnded = true;
      finish();
    },
  };
  return {
    res: res as unknown as ServerResponse,
    status: () => status,
    body: () => text,
    header: (name: string) => res.headers[name],
    done,
  };
}
