/**
 * WebSocket bench, all variants in ONE run, each server in its own child process
 * (bench/websocket-servers.ts) so the load generator's CPU does not count:
 *
 *   node --import tsx bench/websocket.ts
 *
 * 1. messages/s: BENCH_CONNECTIONS (50) clients each keep BENCH_WINDOW (8) 64-byte messages in
 *    flight for BENCH_SECONDS (5) after a 1 s warm-up, against: the upstream directly, a raw `ws`
 *    relay (baseline), fleetgate's raw upgrade proxy. Also the server child's CPU µs per message.
 * 2. message routing, like with like: BENCH_ROUNDS (3) rounds, each pairing the relay and
 *    fleetgate's message routing on the SAME frames (`{path,id,data}` JSON text, then MessagePack
 *    binary, pre-encoded by the clients), the SAME byte-level echo service behind both, and the
 *    same `ws` settings (permessage-deflate off on every hop). Within a round the two take turns
 *    in BENCH_SLICE_MS (500) slices until each had BENCH_SECONDS of load (who opens alternates
 *    from round to round), so both see the same machine weather; ratios are taken within the
 *    round: messages/s and server CPU per message.
 * 3. memory per idle connection: BENCH_IDLE (2000) idle connections opened through the relay and
 *    through the gateway (raw proxy; message routing with each client pinned to an upstream link);
 *    the child's RSS and heap (+external) delta after a forced GC, per connection.
 *
 * BENCH_ONLY=routing runs part 2 alone; BENCH_METRICS=1 gives the gateway `createMetrics()` (as
 * the fleetgate bin does), so its per-message counters are in the measured cost.
 *
 * Targets: raw upgrade proxy ≥ 0.8× the relay's messages/s; message routing ≥ 0.8× the relay's
 * messages/s and ≤ 1.25× its server CPU per message in every round; ≤ 50 KB per idle connection.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ClientLoad, closeAll, type Framing, openAll } from './websocket-load.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 8);
const IDLE = Number(process.env.BENCH_IDLE ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** `routing`: only the message-routing rounds (part 2). */
const ONLY = process.env.BENCH_ONLY;
const SERVERS = fileURLToPath(new URL('./websocket-servers.ts', import.meta.url));
/** Slices in which the relay and the gateway take turns within a round (part 2). */
const SLICE_MS = Number(process.env.BENCH_SLICE_MS ?? 500);

interface Stats {
  cpu: number;
  rss: number;
  heap: number;
}

interface Child {
  port: number;
  stats(gc?: boolean): Promise<Stats>;
  stop(): Promise<void>;
}

const children = new Set<Child>();

async function startChild(kind: string, ...args: string[]): Promise<Child> {
  const proc: ChildProcess = fork(SERVERS, [kind, ...args], {
    execArgv: [
      '--import',
      'tsx',
      '--expose-gc',
      ...(process.env.BENCH_CHILD_PROF === kind ? ['--cpu-prof', '--cpu-prof-dir=.cpu-prof'] : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [ready] = (await Promise.race([
    once(proc, 'message'),
    once(proc, 'exit').then(() => {
      throw new Error(`bench child ${kind} exited before listening`);
    }),
  ])) as [{ port: number }];
  const child: Child = {
    port: ready.port,
    async stats(gc = false) {
      proc.send({ type: 'stats', gc });
      for (;;) {
        const [m] = (await once(proc, 'message')) as [Stats & { type: string }];
        if (m.type === 'stats') return m;
      }
    },
    async stop() {
      children.delete(child);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      await exited;
    },
  };
  children.add(child);
  return child;
}

/** Messages per second with WINDOW messages in flight per connection, and the server's CPU per message. */
async function throughput(url: string, server: Child | undefined, framing: Framing): Promise<Measure> {
  const load = await ClientLoad.open(url, framing, CONNECTIONS, WINDOW);
  load.start();
  await sleep(1000);
  const c0 = load.received;
  const s0 = await server?.stats();
  const t0 = performance.now();
  await sleep(SECONDS * 1000);
  const c1 = load.received;
  const s1 = await server?.stats();
  const elapsed = (performance.now() - t0) / 1000;
  await load.stop();
  await load.close();
  const msgs = c1 - c0;
  return { rate: msgs / elapsed, cpu: s0 === undefined || s1 === undefined ? Number.NaN : (s1.cpu - s0.cpu) / msgs };
}

/**
 * One round of message routing: the relay and the gateway, each with its own clients open, take
 * turns in SLICE_MS slices (each slice drained before the next starts) until each had SECONDS of
 * load; `gatewayFirst` picks who opens. Each side's messages, time and CPU are summed over its
 * own slices, so both see the same machine weather.
 */
async function pairedRound(framing: Framing, relay: Child, gateway: Child, gatewayFirst: boolean): Promise<Pair> {
  const sides = [
    { server: relay, load: await ClientLoad.open(`ws://127.0.0.1:${relay.port}/ws`, framing, CONNECTIONS, WINDOW) },
    {
      server: gateway,
      load: await ClientLoad.open(`ws://127.0.0.1:${gateway.port}/ws`, framing, CONNECTIONS, WINDOW),
    },
  ];
  const totals = sides.map(() => ({ msgs: 0, ms: 0, cpu: 0 }));
  // Warm-up: links open, code paths get hot; not counted.
  for (const side of sides) {
    side.load.start();
    await sleep(500);
    await side.load.stop();
  }
  const slices = Math.max(2, Math.round((2 * SECONDS * 1000) / SLICE_MS));
  for (let k = 0; k < slices; k++) {
    const i = (k + (gatewayFirst ? 1 : 0)) % 2;
    const { server, load } = sides[i]!;
    const s0 = await server.stats();
    const c0 = load.received;
    const t0 = performance.now();
    load.start();
    await sleep(SLICE_MS);
    await load.stop();
    const t1 = performance.now();
    const s1 = await server.stats();
    const total = totals[i]!;
    total.msgs += load.received - c0;
    total.ms += t1 - t0;
    total.cpu += s1.cpu - s0.cpu;
  }
  await Promise.all(sides.map((side) => side.load.close()));
  const [r, g] = totals.map((t) => ({ rate: (t.msgs * 1000) / t.ms, cpu: t.cpu / t.msgs }));
  return { relay: r!, gateway: g! };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * RSS and heap growth per idle connection in `server`. With `pin`, each client first sends one
 * message-routing frame, so the gateway holds its pinned upstream link too.
 */
async function idleMemory(url: string, server: Child, pin = false): Promise<{ rss: number; heap: number }> {
  const before = await server.stats(true);
  const sockets = await openAll(url, IDLE);
  if (pin) {
    await Promise.all(
      sockets.map((ws, id) => {
        const reply = once(ws, 'message');
        ws.send(JSON.stringify({ path: '/bench/x', id, data: 'pin' }));
        return reply;
      }),
    );
  }
  await new Promise((r) => setTimeout(r, 500));
  const after = await server.stats(true);
  await closeAll(sockets);
  return { rss: (after.rss - before.rss) / IDLE, heap: (after.heap - before.heap) / IDLE };
}

/** Messages/s and the server child's CPU µs per message of one run. */
interface Measure {
  rate: number;
  cpu: number;
}

/** One round of message routing: the relay and the gateway on the same frames, back to back. */
interface Pair {
  relay: Measure;
  gateway: Measure;
}

/** Targets of the message-routing rows (issue #19): against the relay, in every round. */
const MIN_RATE_RATIO = 0.8;
const MAX_CPU_RATIO = 1.25;

function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

function load(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}

/** Part 1: the upstream directly, the relay and the raw upgrade proxy on raw 64-byte messages. */
async function proxyPart(upstreamUrl: string, upstream: Child, gateway: Child): Promise<string[]> {
  process.stderr.write('bench: direct to the upstream…\n');
  const direct = await throughput(`ws://127.0.0.1:${upstream.port}/echo/x`, undefined, 'raw');
  const relay = await startChild('relay', upstreamUrl);
  process.stderr.write('bench: raw ws relay…\n');
  const base = await throughput(`ws://127.0.0.1:${relay.port}/echo/x`, relay, 'raw');
  await relay.stop();
  process.stderr.write('bench: fleetgate raw upgrade proxy…\n');
  const proxy = await throughput(`ws://127.0.0.1:${gateway.port}/echo/x`, gateway, 'raw');
  const rows: [string, Measure][] = [
    ['direct to upstream', direct],
    ['raw ws relay (baseline)', base],
    ['fleetgate upgrade proxy', proxy],
  ];
  const out = ['variant                        msgs/s     x relay   server CPU µs/msg   x relay'];
  for (const [label, r] of rows) {
    out.push(
      `${label.padEnd(28)} ${fmt(r.rate, 0).padStart(9)}  ${fmt(r.rate / base.rate).padStart(9)}   ${fmt(r.cpu, 1).padStart(17)}   ${fmt(r.cpu / base.cpu).padStart(7)}`,
    );
  }
  const ratio = proxy.rate / base.rate;
  out.push(`target: upgrade proxy ≥ 0.8× relay msgs/s: ${fmt(ratio)}× ${ratio >= 0.8 ? 'MET' : 'MISSED'}`);
  return out;
}

/** Part 2: message routing against the relay, round by round, on the same frames and service. */
async function routingPart(msgUrl: string, gateway: Child): Promise<string[]> {
  // The relay forwards the same {path,id,data} frames to the same echo service as the gateway.
  const relay = await startChild('relay', msgUrl);
  const rounds: Record<'json' | 'msgpack', Pair[]> = { json: [], msgpack: [] };
  for (let r = 1; r <= ROUNDS; r++) {
    process.stderr.write(`bench: message routing round ${r}/${ROUNDS}…\n`);
    for (const framing of ['json', 'msgpack'] as const) {
      // Alternate who opens the round, so a drift in the machine's load does not always favour one.
      rounds[framing].push(await pairedRound(framing, relay, gateway, r % 2 === 0));
    }
  }
  await relay.stop();
  const out = [
    'message routing against the relay, like with like: the same pre-encoded {path,id,data} frames from the',
    'same clients, the same byte-level echo service behind both, permessage-deflate off on every hop; each',
    `round lets the relay and the gateway take turns in ${SLICE_MS} ms slices (${SECONDS} s each, who opens alternating),`,
    "ratios within the round; CPU is each server process's own, counted over its own slices.",
    'codec    round   relay msgs/s  gateway msgs/s  x relay   CPU µs/msg relay / gateway  x relay',
  ];
  for (const framing of ['json', 'msgpack'] as const) {
    for (const [i, x] of rounds[framing].entries()) {
      out.push(
        `${framing.padEnd(7)} ${String(i + 1).padStart(6)}   ${fmt(x.relay.rate, 0).padStart(12)}  ${fmt(x.gateway.rate, 0).padStart(14)}  ${fmt(x.gateway.rate / x.relay.rate).padStart(7)}   ${`${fmt(x.relay.cpu, 1)} / ${fmt(x.gateway.cpu, 1)}`.padStart(24)}  ${fmt(x.gateway.cpu / x.relay.cpu).padStart(7)}`,
      );
    }
  }
  const range = (xs: number[]): string => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}×`;
  const verdict = (met: number): string =>
    met === ROUNDS ? 'MET in every round' : `MISSED (met in ${met}/${ROUNDS} rounds)`;
  for (const framing of ['json', 'msgpack'] as const) {
    const rates = rounds[framing].map((x) => x.gateway.rate / x.relay.rate);
    const cpus = rounds[framing].map((x) => x.gateway.cpu / x.relay.cpu);
    const rateMet = rates.filter((x) => x >= MIN_RATE_RATIO).length;
    const cpuMet = cpus.filter((x) => x <= MAX_CPU_RATIO).length;
    out.push(
      `target: message routing (${framing}) ≥ ${MIN_RATE_RATIO}× relay msgs/s: ${range(rates)} over ${ROUNDS} rounds, ${verdict(rateMet)}`,
      `target: message routing (${framing}) ≤ ${MAX_CPU_RATIO}× relay CPU/msg: ${range(cpus)} over ${ROUNDS} rounds, ${verdict(cpuMet)}`,
    );
  }
  return out;
}

/** Part 3: memory per idle connection in the relay and the gateway. */
async function idlePart(upstreamUrl: string, msgUrl: string): Promise<string[]> {
  process.stderr.write(`bench: ${IDLE} idle connections…\n`);
  const relayMem = await startChild('relay', upstreamUrl);
  const relayIdle = await idleMemory(`ws://127.0.0.1:${relayMem.port}/echo/x`, relayMem);
  await relayMem.stop();
  const gwMem = await startChild('gateway', upstreamUrl, msgUrl);
  const gwIdle = await idleMemory(`ws://127.0.0.1:${gwMem.port}/echo/x`, gwMem);
  await gwMem.stop();
  const gwMsgMem = await startChild('gateway', upstreamUrl, msgUrl);
  const gwMsgIdle = await idleMemory(`ws://127.0.0.1:${gwMsgMem.port}/ws`, gwMsgMem, true);
  await gwMsgMem.stop();
  const kb = Math.max(gwIdle.rss, gwIdle.heap) / 1024;
  const line = (label: string, m: { rss: number; heap: number }): string =>
    `  ${label.padEnd(32)} RSS ${fmt(m.rss / 1024, 1)} KB, heap+external ${fmt(m.heap / 1024, 1)} KB`;
  return [
    `idle connections (${IDLE}), per connection in the server process after GC:`,
    line('raw ws relay:', relayIdle),
    line('fleetgate upgrade proxy:', gwIdle),
    line('fleetgate message client + link:', gwMsgIdle),
    `target: ≤ 50 KB per idle proxied connection: ${fmt(kb, 1)} KB ${kb <= 50 ? 'MET' : 'MISSED'}`,
  ];
}

async function main(): Promise<void> {
  const loadBefore = load();
  const upstream = await startChild('upstream');
  // The message service: a byte-level echo (websocket-servers.ts) behind the relay AND the gateway.
  const msgUpstream = await startChild('msg-echo');
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  const msgUrl = `http://127.0.0.1:${msgUpstream.port}`;
  const gateway = await startChild('gateway', upstreamUrl, msgUrl);
  const parts: string[][] = [];
  if (ONLY !== 'routing') parts.push(await proxyPart(upstreamUrl, upstream, gateway));
  parts.push(await routingPart(msgUrl, gateway));
  await gateway.stop();
  if (ONLY !== 'routing') parts.push(await idlePart(upstreamUrl, msgUrl));
  console.log(
    `\nwebsocket bench: ${CONNECTIONS} connections × ${WINDOW} in flight, 64-byte payloads, ${SECONDS} s per run, node ${process.version}`,
  );
  console.log(`load average before ${loadBefore}, after ${load()}`);
  if (process.env.BENCH_METRICS === '1') console.log('gateway with createMetrics() (BENCH_METRICS=1)');
  for (const part of parts) console.log(`\n${part.join('\n')}`);
  await upstream.stop();
  await msgUpstream.stop();
}

async function cleanup(): Promise<void> {
  await Promise.allSettled([...children].map((c) => c.stop()));
}

process.on('SIGINT', () => {
  cleanup().finally(() => process.exit(130));
});

try {
  await main();
} finally {
  await cleanup();
}
