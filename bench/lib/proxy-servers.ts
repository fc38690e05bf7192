/**
 * Child process of bench/proxy.ts: runs ONE server (the upstream, or one proxy under test) so
 * its CPU can be measured apart from the load generator.
 *
 *   node --import tsx bench/lib/proxy-servers.ts <kind> [upstreamUrl]
 *
 * kinds: upstream | raw | fleetgate | fleetgate-apikey | fleetgate-jwt | fleetgate-express | fleetgate-express-server | fleetgate-readme | express-hpm |
 * express-hpm-server | express-hpm-default | fast-gateway. `-server` variants serve the same Express app
 * with `createExpressServer(app)` instead of `http.createServer(app)`.
 * Talks to the parent over IPC: sends `{ type: 'ready', port }`; answers `{ type: 'cpu' }`
 * with `{ type: 'cpu', micros }` (user + system CPU of this process since it started), and
 * `gateway-time-start`/`-stop` with the in-proxy time of the requests between them
 * (bench/lib/gateway-time.ts; meaningful for the fleetgate kinds).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExpressLikeApp } from '../../lib/http/express-server.js';
import { type GatewayTime, recordGatewayTime } from './gateway-time.js';

/** The request path every variant serves (a registered route for fleetgate). */
export const BENCH_PATH = '/api/items/42';
/** The key the `fleetgate-apikey` child accepts. */
export const BENCH_API_KEY = 'bench-key-0123456789abcdef';
/** The PEM the `fleetgate-jwt` child verifies with (its private half signs the bench's token); set by the parent. */
const BENCH_JWT_PUBLIC_KEY = process.env.BENCH_JWT_PUBLIC_KEY ?? '';
const BODY = Buffer.from(JSON.stringify({ id: 42, name: 'widget', tags: ['a', 'b', 'c'], price: 9.99 }));

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

function upstreamHandler(): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length });
    res.end(BODY);
  };
}

/** The baseline: a node:http pipe proxy with a keep-alive agent, nothing else. */
function rawPipe(target: URL): Handler {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  return (req, res) => {
    const up = http.request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers, agent },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  };
}

async function fleetgateProxy(target: URL, withMetrics = false) {
  const { Registry } = await import('../../lib/registry/registry.js');
  const { MemoryBackend } = await import('../../lib/registry/backends/memory.js');
  const { discoveryProxy } = await import('../../lib/proxy/discovery-proxy.js');
  // A lease longer than any bench run: nothing heartbeats here.
  const registry = new Registry({ backend: new MemoryBackend(), ownsBackend: true, ttlMs: 24 * 3600_000 });
  await registry.ready();
  await registry.register({
    service: 'items',
    url: target.origin,
    routes: [{ method: 'GET', path: '/api/items/:id', permission: 'items:read' }],
  });
  if (!withMetrics) return discoveryProxy({ registry });
  // Every request counted and observed, as the bin does (createGateway wires createMetrics()).
  const { createMetrics } = await import('../../lib/telemetry/metrics.js');
  return discoveryProxy({ registry, metrics: createMetrics({ registry }) });
}

/** `http.createServer(app)`, or fleetgate's `createExpressServer(app)`. */
async function serveExpress(app: ExpressLikeApp, withFleetgateServer: boolean): Promise<http.Server> {
  if (!withFleetgateServer) return http.createServer(app);
  const { createExpressServer } = await import('../../lib/http/express-server.js');
  return createExpressServer(app);
}

async function build(kind: string, target: URL | undefined): Promise<http.Server> {
  switch (kind) {
    case 'upstream': {
      const server = http.createServer(upstreamHandler());
      server.keepAliveTimeout = 65_000;
      return server;
    }
    case 'raw':
      return http.createServer(rawPipe(target!));
    case 'fleetgate':
    case 'fleetgate-metrics': {
      const proxy = await fleetgateProxy(target!, kind === 'fleetgate-metrics');
      return http.createServer((req, res) => proxy(req, res));
    }
    case 'fleetgate-apikey':
    case 'fleetgate-jwt': {
      // The same proxy behind apiKeys() (a memory key store, the route's permission enforced) or
      // jwtAuth() (an RS256 PEM; the client repeats one token, as real clients do).
      const proxy = await fleetgateProxy(target!);
      const { compose } = await import('../../lib/http/compose.js');
      const auth =
        kind === 'fleetgate-apikey'
          ? (await import('../../lib/auth/api-keys.js')).apiKeys({
              keys: [{ name: 'bench', key: BENCH_API_KEY, permissions: ['items:read'] }],
              routes: proxy,
            })
          : (await import('../../lib/auth/jwt-auth.js')).jwtAuth({ publicKey: BENCH_JWT_PUBLIC_KEY, routes: proxy });
      const handler = compose([auth, proxy as never]);
      return http.createServer((req, res) => handler(req, res));
    }
    case 'fleetgate-express':
    case 'fleetgate-express-server': {
      const { default: express } = await import('express');
      const app = express();
      app.use(await fleetgateProxy(target!));
      return serveExpress(app, kind.endsWith('-server'));
    }
    case 'fleetgate-readme': {
      // The README's Express form as written: zero-argument registry() and discoveryProxy() on
      // the shared default registry, served by app.listen (http.createServer(app)). The default
      // registry reads its lease from the environment: longer than any bench run, since nothing
      // heartbeats here (at the default 90 s the instance expired mid-run and every request was a 503).
      process.env.REGISTRY_TTL ??= '24h';
      const { default: express } = await import('express');
      const { registry, defaultRegistry } = await import('../../lib/index.js');
      const { discoveryProxy } = await import('../../lib/proxy/discovery-proxy.js');
      const app = express();
      app.use(registry());
      app.use(discoveryProxy());
      const shared = await defaultRegistry();
      await shared.register({
        service: 'items',
        url: target!.origin,
        routes: [{ method: 'GET', path: '/api/items/:id' }],
      });
      return http.createServer(app);
    }
    case 'express-hpm':
    case 'express-hpm-server': {
      const { default: express } = await import('express');
      const { createProxyMiddleware } = await import('http-proxy-middleware');
      const app = express();
      // Keep-alive to the upstream, as every other variant has: the fair configuration.
      app.use(
        createProxyMiddleware({ target: target!.origin, agent: new http.Agent({ keepAlive: true, maxSockets: 256 }) }),
      );
      return serveExpress(app, kind.endsWith('-server'));
    }
    case 'express-hpm-default': {
      // As most apps configure it: no agent, so a new upstream connection per request.
      const { default: express } = await import('express');
      const { createProxyMiddleware } = await import('http-proxy-middleware');
      const app = express();
      app.use(createProxyMiddleware({ target: target!.origin }));
      return http.createServer(app);
    }
    case 'fast-gateway': {
      const { default: gateway } = await import('fast-gateway');
      const server = http.createServer();
      gateway({
        server: undefined,
        restana: { server },
        routes: [{ prefix: '/api', prefixRewrite: '/api', target: target!.origin }],
      } as never);
      return server;
    }
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

async function main(): Promise<void> {
  const [kind, targetUrl] = process.argv.slice(2);
  const server = await build(kind!, targetUrl === undefined ? undefined : new URL(targetUrl));
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port });
  });
  let stopGatewayTime: (() => GatewayTime) | undefined;
  process.on('message', (msg: { type: string }) => {
    if (msg.type === 'cpu') {
      const u = process.cpuUsage();
      process.send?.({ type: 'cpu', micros: u.user + u.system });
    } else if (msg.type === 'gateway-time-start') {
      stopGatewayTime = recordGatewayTime();
      process.send?.({ type: 'gateway-time-started' });
    } else if (msg.type === 'gateway-time-stop') {
      process.send?.({ type: 'gateway-time', time: stopGatewayTime?.() });
      stopGatewayTime = undefined;
    }
  });
  // The parent going away (normally or not) ends this child; exiting normally lets --cpu-prof write.
  process.on('disconnect', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
}

if (process.send !== undefined) await main();
