/**
 * What the front door's header work costs per request, resolved far below the noise of a whole
 * proxy run (docs/performance.md, "The front door's header work"):
 *
 *   node --import tsx bench/header-cost.ts
 *
 * 1. `buildUpstreamHeaders` (lib/upstream/proxy-headers.ts: Connection-nominated headers, trusted
 *    proxies, Via and its loop check, Host count, request-id bounds) timed in a tight loop on four
 *    request shapes, side by side with a plain copy of the same headers plus `X-Forwarded-For`,
 *    `X-Forwarded-Proto`, `X-Request-Id` and `traceparent` (the least any proxy does), in
 *    alternating rounds; the difference is what the checks add.
 * 2. fleetgate standalone under load in a child process (bench/lib/proxy-servers.ts), its CPU per
 *    request read from the child, over BENCH_ROUNDS rounds.
 * 3. Printed: ns per call of each, and the header work (whole, and added over the plain copy) as a
 *    share of the proxy's CPU per request, per round with the range. Budget: added ≤ 3 %.
 *
 * Env: BENCH_ROUNDS (5), BENCH_SECONDS (3), BENCH_CONNECTIONS (50), BENCH_CALLS (200000).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { buildUpstreamHeaders, type RequestHeadInfo, upstreamHeaderOptions } from '../lib/upstream/proxy-headers.js';
import { runLoad, startChild } from './lib/load.js';
import { BENCH_PATH } from './lib/proxy-servers.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const CALLS = Number(process.env.BENCH_CALLS ?? 200_000);

const BASE = [
  'Host',
  'gw.example:8080',
  'User-Agent',
  'bench/1.0',
  'Accept',
  'application/json',
  'Accept-Encoding',
  'gzip, deflate, br',
  'Cookie',
  'session=0123456789abcdef',
];

/** The request shapes: a plain API call, a forwarded one, one naming headers in Connection, one with Via. */
const SHAPES: readonly [label: string, raw: string[]][] = [
  ['plain GET', [...BASE]],
  ['with X-Forwarded-* and X-Request-Id', [...BASE, 'X-Forwarded-For', '203.0.113.9', 'X-Request-Id', 'abc-123']],
  ['Connection: X-Forwarded-For, X-Request-Id', [...BASE, 'Connection', 'keep-alive, X-Forwarded-For, X-Request-Id']],
  ['Via from another gateway', [...BASE, 'Via', '1.1 edge-a, 1.1 edge-b']],
];

function fakeRequest(raw: string[]): IncomingMessage {
  return { rawHeaders: raw, httpVersion: '1.1', socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage;
}

/** The least a proxy does with request headers: copy them and add its forwarding headers. */
function plainCopy(req: IncomingMessage): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) out.push(raw[i]!, raw[i + 1]!);
  out.push('x-forwarded-for', req.socket.remoteAddress ?? '', 'x-forwarded-proto', 'http');
  out.push('x-request-id', randomUUID(), 'traceparent', `00-${randomUUID().replaceAll('-', '')}-0000000000000001-01`);
  return out;
}

const options = upstreamHeaderOptions({ gatewayId: 'bench-gw' });
const info: RequestHeadInfo = { requestId: '', contentLength: -1, chunked: false, expect: false, refusal: undefined };
let sink = 0;

function nsPerCall(fn: (req: IncomingMessage) => string[], reqs: IncomingMessage[]): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) sink += fn(reqs[i % reqs.length]!).length;
  return Number(process.hrtime.bigint() - start) / CALLS;
}

const reqsByShape = SHAPES.map(([, raw]) => [fakeRequest(raw)]);
const full = (req: IncomingMessage) => buildUpstreamHeaders(req, options, info);

// Warm both up so the JIT has settled before any round is timed.
for (const reqs of reqsByShape) {
  nsPerCall(full, reqs);
  nsPerCall(plainCopy, reqs);
}

const upstream = await startChild('upstream');
const proxy = await startChild('fleetgate', upstream.url);
await runLoad(proxy.url + BENCH_PATH, { connections: CONNECTIONS, seconds: 1 });

interface Round {
  fullNs: number[];
  plainNs: number[];
  proxyCpuNs: number;
}
const rounds: Round[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const fullNs: number[] = [];
  const plainNs: number[] = [];
  for (const reqs of reqsByShape) {
    // Alternate which goes first so a drifting machine does not favour either.
    if (r % 2 === 0) {
      fullNs.push(nsPerCall(full, reqs));
      plainNs.push(nsPerCall(plainCopy, reqs));
    } else {
      plainNs.push(nsPerCall(plainCopy, reqs));
      fullNs.push(nsPerCall(full, reqs));
    }
  }
  const before = await proxy.cpu();
  const load = await runLoad(proxy.url + BENCH_PATH, { connections: CONNECTIONS, seconds: SECONDS });
  const after = await proxy.cpu();
  rounds.push({ fullNs, plainNs, proxyCpuNs: ((after - before) * 1000) / Math.max(1, load.total + load.errors) });
}
await proxy.stop();
await upstream.stop();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const range = (xs: number[], digits: number) =>
  `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;

console.log(`header work, ns per call, median (range) over ${ROUNDS} rounds of ${CALLS} calls`);
console.log(`${'shape'.padEnd(44)} ${'fleetgate'.padEnd(22)} ${'plain copy'.padEnd(22)} added`);
SHAPES.forEach(([label], i) => {
  const f = rounds.map((r) => r.fullNs[i]!);
  const p = rounds.map((r) => r.plainNs[i]!);
  const added = rounds.map((r) => r.fullNs[i]! - r.plainNs[i]!);
  console.log(`${label.padEnd(44)} ${range(f, 0).padEnd(22)} ${range(p, 0).padEnd(22)} ${range(added, 0)}`);
});
const cpu = rounds.map((r) => r.proxyCpuNs);
console.log(
  `\nfleetgate standalone CPU per proxied request: ${range(
    cpu.map((n) => n / 1000),
    1,
  )} µs`,
);
// The plain GET is the shape the proxy bench sends; the worst shape bounds the rest.
const shareWhole = rounds.map((r) => (100 * Math.max(...r.fullNs)) / r.proxyCpuNs);
const shareAdded = rounds.map((r) => (100 * Math.max(...r.fullNs.map((f, i) => f - r.plainNs[i]!))) / r.proxyCpuNs);
console.log(`whole header pass (worst shape) as a share of the request's CPU: ${range(shareWhole, 2)} %`);
console.log(`added over a plain copy (worst shape):                          ${range(shareAdded, 2)} %`);
console.log(`budget: added ≤ 3 % → ${Math.max(...shareAdded) <= 3 ? 'met in every round' : 'MISSED in some round'}`);
if (sink < 0) console.log(sink);
