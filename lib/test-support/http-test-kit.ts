/**
 * HTTP test support shared by unit tests in lib/ and the e2e tests: real upstream node:http
 * servers on 127.0.0.1, a real Registry on the MemoryBackend, and a raw node:http client (so
 * tests control hop-by-hop headers that fetch refuses to send). It lives in lib/ so that lib's
 * tests never import from e2e/ (arrows point down: e2e → lib); lib/test-support/ is left out of
 * the build (tsconfig.build.json).
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor as waitForCondition } from '../conformance/wait-for.js';
import { MemoryBackend } from '../registry/backends/memory.js';
import type { RouteSpec } from '../registry/model.js';
import { Registry } from '../registry/registry.js';

/** A server listening on a free loopback port. */
export interface TestServer {
  readonly server: http.Server;
  readonly port: number;
  readonly url: string;
  /** Requests received. */
  hits: number;
  close(): Promise<void>;
}

/** Starts a node:http server on 127.0.0.1:0. `close()` also drops keep-alive connections. */
export async function listen(handler: http.RequestListener): Promise<TestServer> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const ts: TestServer = {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    hits: 0,
    close: async () => {
      if (!server.listening) return;
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
  server.on('request', () => {
    ts.hits++;
  });
  return ts;
}

/** An upstream that answers JSON `{ name, method, url, headers, body }` (the body as text). */
export async function echoUpstream(name: string): Promise<TestServer> {
  return listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({
        name,
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
}

/** A registry on the in-memory backend, ready. */
export async function memoryRegistry(): Promise<Registry> {
  const registry = new Registry({ backend: new MemoryBackend(), ownsBackend: true });
  await registry.ready();
  return registry;
}

/** Registers `url` as an instance of `service`. */
export async function registerInstance(
  registry: Registry,
  service: string,
  url: string,
  routes: RouteSpec[] = [],
  extra: { instanceId?: string; weight?: number; version?: string } = {},
): Promise<string> {
  const inst = await registry.register({ service, url, routes, ...extra });
  return inst.instanceId;
}

/** A raw response. */
export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

const agent = new http.Agent({ keepAlive: false });

/** Sends one request with node:http (no header filtering) and reads the whole response. */
export function send(
  url: string,
  options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Parses a JSON body. */
export function json<T = Record<string, unknown>>(res: RawResponse): T {
  return JSON.parse(res.body) as T;
}

/** Polls `check` every 5 ms until it returns true or `timeoutMs` passes (lib/conformance/wait-for.ts underneath). */
export async function waitFor(check: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  await waitForCondition(check, { timeoutMs, intervalMs: 5, description: what });
}
