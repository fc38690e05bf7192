/**
 * The processes of the WebSocket bench, one kind per child, started by `bench/websocket.ts`:
 *
 *   node --import tsx bench/websocket-servers.ts <kind> [upstream-url] [message-upstream-url]
 *
 * - `upstream`: a `ws` echo server.
 * - `msg-upstream`: a service answering message routes (`serveMessageRoutes`), echoing `data`.
 * - `msg-echo`: a byte-level message service (cuts `path` out of the frame), behind both the relay
 *   and the gateway in the message-routing rounds, so the pair differs only in the middle.
 * - `relay <upstream>`: the baseline, a minimal `ws` server that opens one `ws` client to the
 *   upstream per connection and relays messages both ways (parse + re-frame, one socket write per
 *   frame, as a naive relay does); permessage-deflate off on both of its sides, as in the gateway.
 * - `gateway <upstream> <msg-upstream>`: node:http + `websocketGateway()` on a Registry with a
 *   MemoryBackend; `/echo/**` raw-proxied to the upstream, `/bench/*` a public message route;
 *   with BENCH_METRICS=1 it counts into `createMetrics()` as the bin does.
 *
 * Each child reports `{type:'ready', port}` over IPC and answers `{type:'stats', gc}` with its
 * CPU time (µs) and memory (after a forced GC when asked; children run with --expose-gc).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { serveMessageRoutes } from '../lib/client/ws-routes.js';
import { MemoryBackend } from '../lib/registry/backends/memory.js';
import { Registry } from '../lib/registry/registry.js';
import { createMetrics } from '../lib/telemetry/metrics.js';
import { websocketGateway } from '../lib/websocket/websocket-gateway.js';

const [kind, upstreamUrl, msgUpstreamUrl] = process.argv.slice(2);
/** `{"path":"/bench/x",` as the bench's JSON clients write it. */
const JSON_PATH_PREFIX = '{"path":"/bench/x",'.length;
const OPEN_BRACE = Buffer.from('{');
/** fixmap(3) + fixstr "path" + fixstr "/bench/x", as `encode({path, id, data})` writes it. */
const MSGPACK_PATH_PREFIX = 1 + 5 + 9;
const MSGPACK_MAP2 = Buffer.from([0x82]);

async function listenWss(onConnection: (ws: WebSocket, url: string) => void): Promise<number> {
  const server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false });
  wss.on('connection', (ws, req) => {
    ws.on('error', () => {});
    onConnection(ws, req.url ?? '/');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as AddressInfo).port;
}

async function start(): Promise<number> {
  switch (kind) {
    case 'upstream':
      return listenWss((ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    case 'msg-upstream':
      return (await serveMessageRoutes({ port: 0 }, { '/bench/*': (data) => data })).port;
    case 'msg-echo':
      // The cheapest correct service: answers {path:'/bench/x',id,data} with {id,data} by cutting
      // the path out of the bytes (JSON text or MessagePack, as the client encoded it), so the
      // message-routing rows measure the gateway, not a service's decode/encode.
      return listenWss((ws) =>
        ws.on('message', (data, isBinary) => {
          const b = data as Buffer;
          if (isBinary) ws.send(Buffer.concat([MSGPACK_MAP2, b.subarray(MSGPACK_PATH_PREFIX)]), { binary: true });
          else ws.send(Buffer.concat([OPEN_BRACE, b.subarray(JSON_PATH_PREFIX)]), { binary: false });
        }),
      );
    case 'relay':
      return listenWss((client, url) => {
        const upstream = new WebSocket(upstreamUrl!.replace(/^http/, 'ws') + url, { perMessageDeflate: false });
        const queue: [WebSocket.RawData, boolean][] = [];
        upstream.on('error', () => client.terminate());
        upstream.on('open', () => {
          for (const [d, b] of queue.splice(0)) upstream.send(d, { binary: b });
        });
        client.on('message', (data, isBinary) => {
          if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary: isBinary });
          else queue.push([data, isBinary]);
        });
        upstream.on('message', (data, isBinary) => client.send(data, { binary: isBinary }));
        client.on('close', () => upstream.terminate());
        upstream.on('close', () => client.terminate());
      });
    case 'gateway': {
      const registry = new Registry({ backend: new MemoryBackend(), ownsBackend: true });
      await registry.ready();
      await registry.register({
        service: 'echo',
        instanceId: 'u1',
        url: upstreamUrl!,
        routes: [{ method: 'GET', path: '/echo/**' }],
      });
      await registry.register({
        service: 'bench',
        instanceId: 'm1',
        url: msgUpstreamUrl!,
        routes: [{ method: '*', path: '/bench/*', protocol: 'ws', public: true }],
      });
      const server = createServer((_req, res) => res.writeHead(404).end());
      // BENCH_METRICS=1: the gateway counts into createMetrics(), as the fleetgate bin wires it.
      const metrics = process.env.BENCH_METRICS === '1' ? createMetrics({ registry }) : undefined;
      websocketGateway({ registry, messagesPerSecond: 0, metrics }).attach(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      return (server.address() as AddressInfo).port;
    }
    default:
      throw new Error(`unknown bench child kind ${kind}`);
  }
}

const gc = (globalThis as { gc?: () => void }).gc;
process.on('message', (msg: { type: string; gc?: boolean }) => {
  if (msg.type !== 'stats') return;
  if (msg.gc === true && gc !== undefined) for (let i = 0; i < 3; i++) gc();
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  process.send?.({
    type: 'stats',
    cpu: cpu.user + cpu.system,
    rss: mem.rss,
    // `external` already includes `arrayBuffers` (socket buffers live there).
    heap: mem.heapUsed + mem.external,
  });
});
process.on('disconnect', () => process.exit(0));
// A clean exit, so --cpu-prof (BENCH_CHILD_PROF) gets to write its profile.
process.on('SIGTERM', () => process.exit(0));
process.send?.({ type: 'ready', port: await start() });
