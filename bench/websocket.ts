/**
 * WebSocket bench, all variants in ONE run, each server in its own child process
 * (bench/websocket-servers.ts) so the load generator's CPU does not count:
 *
 *   node --import tsx bench/websocket.ts
 *
 * 1. messages/s: BENCH_CONNECTIONS (50) clients each keep BENCH_WINDOW (8) 64-byte messages in
 *    flight for BENCH_SECONDS (5) after a 1 s warm-up, against: the upstream directly, a raw `ws`
 *    relay (baseline), fleetgate's raw upgrade proxy, and fleetgate's message routing with JSON
 *    and with MessagePack `{path,id,data}` frames (BENCH_ROUNDS (3) rounds of relay / JSON /
 *    MessagePack, ratios taken within each round). Also the server child's CPU µs per message.
 * 2. memory per idle connection: BENCH_IDLE (2000) idle connections opened through the relay and
 *    through the gateway (raw proxy; message routing with each client pinned to an upstream link);
 *    the child's RSS and heap (+external) delta after a forced GC, per connection.
 *
 * Targets: raw upgrade proxy and message routing ≥ 0.8× the relay's messages/s; ≤ 50 KB per idle
 * connection.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { encode } from '@msgpack/msgpack';
import WebSocket from 'ws';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 8);
const IDLE = Number(process.env.BENCH_IDLE ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SERVERS = fileURLToPath(new URL('./websocket-servers.ts', import.meta.url));
const PAYLOAD = 'x'.repeat(64);

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

async function openAll(url: string, n: number, protocols: string[] = []): Promise<WebSocket[]> {
  const out: WebSocket[] = [];
  for (let i = 0; i < n; i += 200) {
    const batch = Array.from(
      { length: Math.min(200, n - i) },
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(url, protocols, { perMessageDeflate: false });
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        }),
    );
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

async function closeAll(sockets: WebSocket[]): Promise<void> {
  await Promise.all(
    sockets.map((ws) => {
      const closed = once(ws, 'close');
      ws.terminate();
      return closed;
    }),
  );
}

/** Messages per second with WINDOW messages in flight per connection, and the server's CPU per message. */
async function throughput(
  url: string,
  server: Child | undefined,
  framing: 'raw' | 'json' | 'msgpack',
): Promise<{ rate: number; cpu: number }> {
  const sockets = await openAll(url, CONNECTIONS, framing === 'msgpack' ? ['fleetgate.msgpack'] : []);
  let count = 0;
  let running = true;
  let id = 0;
  const next = (): string | Uint8Array =>
    framing === 'raw'
      ? PAYLOAD
      : framing === 'json'
        ? JSON.stringify({ path: '/bench/x', id: id++, data: PAYLOAD })
        : encode({ path: '/bench/x', id: id++, data: PAYLOAD });
  for (const ws of sockets) {
    ws.on('message', () => {
      count++;
      if (running) ws.send(next());
    });
    for (let i = 0; i < WINDOW; i++) ws.send(next());
  }
  await new Promise((r) => setTimeout(r, 1000));
  const c0 = count;
  const s0 = await server?.stats();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const c1 = count;
  const s1 = await server?.stats();
  const elapsed = (performance.now() - t0) / 1000;
  running = false;
  await closeAll(sockets);
  const msgs = c1 - c0;
  return { rate: msgs / elapsed, cpu: s0 === undefined || s1 === undefined ? Number.NaN : (s1.cpu - s0.cpu) / msgs };
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

type Measure = { rate: number; cpu: number };

function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

async function main(): Promise<void> {
  const upstream = await startChild('upstream');
  // A byte-level echo service: the relay's upstream is a plain echo too (websocket-servers.ts).
  const msgUpstream = await startChild('msg-echo');
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  const msgUrl = `http://127.0.0.1:${msgUpstream.port}`;
  const rows: { label: string; rate: number; cpu: number }[] = [];

  process.stderr.write('bench: direct to the upstream…\n');
  rows.push({
    label: 'direct to upstream',
    ...(await throughput(`ws://127.0.0.1:${upstream.port}/echo/x`, undefined, 'raw')),
  });
  const relay = await startChild('relay', upstreamUrl);
  process.stderr.write('bench: raw ws relay…\n');
  rows.push({
    label: 'raw ws relay (baseline)',
    ...(await throughput(`ws://127.0.0.1:${relay.port}/echo/x`, relay, 'raw')),
  });
  const gateway = await startChild('gateway', upstreamUrl, msgUrl);
  process.stderr.write('bench: fleetgate raw upgrade proxy…\n');
  rows.push({
    label: 'fleetgate upgrade proxy',
    ...(await throughput(`ws://127.0.0.1:${gateway.port}/echo/x`, gateway, 'raw')),
  });
  // Message routing: rounds of relay / JSON / MessagePack, so each ratio compares neighbours in time
  // (the machine is shared; its load drifts between rounds, not within one).
  const rounds: { relay: Measure; json: Measure; msgpack: Measure }[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    process.stderr.write(`bench: message routing round ${r}/${ROUNDS}…\n`);
    rounds.push({
      relay: await throughput(`ws://127.0.0.1:${relay.port}/echo/x`, relay, 'raw'),
      json: await throughput(`ws://127.0.0.1:${gateway.port}/ws`, gateway, 'json'),
      msgpack: await throughput(`ws://127.0.0.1:${gateway.port}/ws`, gateway, 'msgpack'),
    });
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const kind of ['json', 'msgpack'] as const) {
    rows.push({
      label: `fleetgate message routing ${kind === 'json' ? 'JSON' : 'MsgPack'}`,
      rate: mean(rounds.map((x) => x[kind].rate)),
      cpu: mean(rounds.map((x) => x[kind].cpu)),
    });
  }
  await relay.stop();
  await gateway.stop();

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

  const base = rows[1]!;
  console.log(
    `\nwebsocket bench: ${CONNECTIONS} connections × ${WINDOW} in flight, 64-byte messages, ${SECONDS} s per run, node ${process.version}\n`,
  );
  console.log('variant                        msgs/s     x relay   server CPU µs/msg   x relay');
  for (const r of rows) {
    console.log(
      `${r.label.padEnd(28)} ${fmt(r.rate, 0).padStart(9)}  ${fmt(r.rate / base.rate).padStart(9)}   ${fmt(r.cpu, 1).padStart(17)}   ${fmt(r.cpu / base.cpu).padStart(7)}`,
    );
  }
  console.log(`\nidle connections (${IDLE}), per connection in the server process after GC:`);
  console.log(
    `  raw ws relay:                    RSS ${fmt(relayIdle.rss / 1024, 1)} KB, heap+external ${fmt(relayIdle.heap / 1024, 1)} KB`,
  );
  console.log(
    `  fleetgate upgrade proxy:         RSS ${fmt(gwIdle.rss / 1024, 1)} KB, heap+external ${fmt(gwIdle.heap / 1024, 1)} KB`,
  );
  console.log(
    `  fleetgate message client + link: RSS ${fmt(gwMsgIdle.rss / 1024, 1)} KB, heap+external ${fmt(gwMsgIdle.heap / 1024, 1)} KB`,
  );
  console.log('\nmessage routing, round by round (relay measured just before, same connections and window):');
  console.log(
    'round   relay msgs/s   JSON msgs/s  x relay   MsgPack msgs/s  x relay   CPU µs/msg relay / JSON / MsgPack',
  );
  const ratios: Record<'json' | 'msgpack', number[]> = { json: [], msgpack: [] };
  for (const [i, x] of rounds.entries()) {
    ratios.json.push(x.json.rate / x.relay.rate);
    ratios.msgpack.push(x.msgpack.rate / x.relay.rate);
    console.log(
      `${String(i + 1).padStart(5)}   ${fmt(x.relay.rate, 0).padStart(12)}   ${fmt(x.json.rate, 0).padStart(11)}  ${fmt(x.json.rate / x.relay.rate).padStart(7)}   ${fmt(x.msgpack.rate, 0).padStart(14)}  ${fmt(x.msgpack.rate / x.relay.rate).padStart(7)}   ${fmt(x.relay.cpu, 1)} / ${fmt(x.json.cpu, 1)} / ${fmt(x.msgpack.cpu, 1)}`,
    );
  }
  const range = (xs: number[]): string => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}×`;
  const proxy = rows[2]!;
  const ratio = proxy.rate / base.rate;
  const kb = Math.max(gwIdle.rss, gwIdle.heap) / 1024;
  console.log('\ntargets:');
  console.log(`  upgrade proxy ≥ 0.8× relay msgs/s: ${fmt(ratio)}× ${ratio >= 0.8 ? 'MET' : 'MISSED'}`);
  for (const kind of ['json', 'msgpack'] as const) {
    const low = Math.min(...ratios[kind]);
    console.log(
      `  message routing (${kind}) ≥ 0.8× relay msgs/s: ${range(ratios[kind])} over ${ROUNDS} rounds ${low >= 0.8 ? 'MET' : 'MISSED'}`,
    );
  }
  console.log(`  ≤ 50 KB per idle proxied connection: ${fmt(kb, 1)} KB ${kb <= 50 ? 'MET' : 'MISSED'}`);
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
