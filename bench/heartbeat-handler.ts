/**
 * The gateway's own JavaScript per heartbeat, without sockets: a `createGateway()` (in-memory
 * registry, health checks every hour, as bench/scale.ts runs the bin) holds `instances`
 * registrations, and its request handler is called with in-memory `IncomingMessage` /
 * `ServerResponse` objects whose output is discarded. Beside it, in the same rounds (order
 * alternating), a stock handler answers the same requests with a canned JSON body: what any
 * `node:http` handler costs here. The difference is what the gateway's dispatch, registration API,
 * Registry and backend add to a heartbeat; bench/heartbeat-path.ts prices the whole request with
 * the kernel and HTTP parser, whose noise on a shared machine hides changes of a few µs.
 *
 *   node --import tsx bench/heartbeat-handler.ts [instances=10000] [rounds=5] [perRound=50000]
 *
 * Runs the source under tsx (the JIT makes it the same code as the built bin once warm).
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { loadavg } from 'node:os';
import { createGateway } from '../lib/gateway.js';
import { registrationBody } from './lib/scale-fleet.js';

const total = Number(process.argv[2] ?? 10_000);
const rounds = Number(process.argv[3] ?? 5);
const perRound = Number(process.argv[4] ?? 50_000);
const PER_SERVICE = 10;

const quiet = { info() {}, warn() {}, error() {} };
const gw = await createGateway({
  env: { REGISTRY_TYPE: 'INMEMORY', HEALTH_CHECK_INTERVAL: '1h', REGISTRY_REGISTER_LIMIT: 'off' },
  logger: quiet,
});
type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const gateway = gw.server.listeners('request')[0] as Handler;
// One unconnected socket stands for the client: its address is all the handlers read of it.
const socket = new Socket();
Object.defineProperty(socket, 'remoteAddress', { value: '127.0.0.1' });

function requestOf(method: string, url: string, headers: Record<string, string>, body?: string): IncomingMessage {
  const req = new IncomingMessage(socket);
  req.method = method;
  req.url = url;
  req.headers = headers;
  req.rawHeaders = Object.entries(headers).flat();
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  req.httpVersion = '1.1';
  if (body !== undefined) req.push(body);
  req.push(null);
  return req;
}

/** Calls `handler` and resolves with the status and body once it ends the response. */
function call(handler: Handler, req: IncomingMessage): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const res = new ServerResponse(req);
    // Nothing is written anywhere: node:http's own output step is replaced by a no-op.
    (res as unknown as { _send: () => boolean })._send = () => true;
    const end = res.end.bind(res);
    res.end = ((chunk?: unknown) => {
      end(chunk as string);
      resolve({ status: res.statusCode, body: typeof chunk === 'string' ? chunk : '' });
      res.emit('close');
      return res;
    }) as typeof res.end;
    handler(req, res);
  });
}

/** What a handler must do at least: answer with a small JSON body and the same headers. */
const stock: Handler = (_req, res) => {
  const body = '{"service":"svc1","instance_id":"svc1-1","expires_at":"2026-12-03T17:05:01.123Z","status":"UP"}';
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
};

const services = Math.max(1, Math.round(total / PER_SERVICE));
const held: { url: string; headers: Record<string, string> }[] = [];
for (let k = 0; k < total; k++) {
  const s = k % services;
  const i = Math.floor(k / services);
  const body = registrationBody(s, i);
  const headers = { host: 'gw', 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
  const res = await call(gateway, requestOf('POST', '/internal/register-service', headers, body));
  const token = /"instance_token":"([^"]+)"/.exec(res.body)?.[1];
  if (res.status !== 200 || token === undefined) throw new Error(`register: ${res.status} ${res.body}`);
  held.push({
    url: `/internal/services/svc${s}/instances/svc${s}-${i}/heartbeat`,
    headers: { host: 'gw', 'x-instance-token': token, 'content-length': '0' },
  });
}

/** CPU µs per heartbeat of `n` heartbeats through `handler`, one at a time. */
async function price(handler: Handler, n: number): Promise<number> {
  const c0 = process.cpuUsage();
  for (let k = 0; k < n; k++) {
    const h = held[k % held.length]!;
    const res = await call(handler, requestOf('PUT', h.url, h.headers));
    if (res.status !== 200) throw new Error(`heartbeat: ${res.status} ${res.body}`);
  }
  const used = process.cpuUsage(c0);
  return (used.user + used.system) / n;
}

console.log(
  `heartbeat-handler: ${total} instances, ${rounds} rounds of ${perRound}; load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
await price(gateway, perRound / 2); // warm-up
await price(stock, perRound / 2);
const gateways: number[] = [];
const stocks: number[] = [];
for (let round = 0; round < rounds; round++) {
  if (round % 2 === 0) {
    gateways.push(await price(gateway, perRound));
    stocks.push(await price(stock, perRound));
  } else {
    stocks.push(await price(stock, perRound));
    gateways.push(await price(gateway, perRound));
  }
}
const added = gateways.map((g, k) => g - stocks[k]!);
const fmt = (xs: number[]): string => `${median(xs).toFixed(2)} µs (rounds ${xs.map((x) => x.toFixed(1)).join(', ')})`;
console.log(`  gateway handler   ${fmt(gateways)}`);
console.log(`  stock handler     ${fmt(stocks)}`);
console.log(`  gateway − stock   ${fmt(added)}`);
await gw.close();

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
