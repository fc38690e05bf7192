/**
 * Load generation and child-process plumbing for the proxy bench: autocannon runs, precise
 * latency percentiles, and the CPU a child reports over IPC.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { GatewayTime } from './gateway-time.js';

const SERVERS = fileURLToPath(new URL('./proxy-servers.ts', import.meta.url));

/** A server running in its own process. */
export interface ChildServer {
  readonly kind: string;
  readonly port: number;
  readonly url: string;
  /** User + system CPU of the child, µs since it started. */
  cpu(): Promise<number>;
  /** Starts recording the child's in-proxy time per request (bench/lib/gateway-time.ts). */
  startGatewayTime(): Promise<void>;
  /** Stops recording and returns its percentiles. */
  stopGatewayTime(): Promise<GatewayTime | undefined>;
  stop(): Promise<void>;
}

/** Starts `bench/lib/proxy-servers.ts <kind> [target]` and waits until it listens. */
export async function startChild(kind: string, target?: string): Promise<ChildServer> {
  const child: ChildProcess = fork(SERVERS, target === undefined ? [kind] : [kind, target], {
    execArgv: [
      '--import',
      'tsx',
      ...(process.env.BENCH_CHILD_PROF === kind ? ['--cpu-prof', '--cpu-prof-dir=.cpu-prof'] : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [msg] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(() => {
      throw new Error(`bench child ${kind} exited before listening`);
    }),
  ])) as [{ type: string; port: number }];
  const port = msg.port;
  return {
    kind,
    port,
    url: `http://127.0.0.1:${port}`,
    async cpu() {
      return (await ask<{ micros: number }>(child, 'cpu', 'cpu')).micros;
    },
    async startGatewayTime() {
      await ask(child, 'gateway-time-start', 'gateway-time-started');
    },
    async stopGatewayTime() {
      return (await ask<{ time?: GatewayTime }>(child, 'gateway-time-stop', 'gateway-time')).time;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      // SIGINT lets --cpu-prof write its profile; the disconnect handler is the fallback.
      child.kill(process.env.BENCH_CHILD_PROF === kind ? 'SIGINT' : 'SIGTERM');
      await exited;
    },
  };
}

/** Sends `{ type }` to the child and waits for its message of type `answer`. */
async function ask<T>(child: ChildProcess, type: string, answer: string): Promise<T> {
  child.send({ type });
  for (;;) {
    const [m] = (await once(child, 'message')) as [{ type: string } & T];
    if (m.type === answer) return m;
  }
}

/** One autocannon run's numbers. */
export interface LoadResult {
  reqPerSec: number;
  /** 200 responses. */
  total: number;
  p50: number;
  p99: number;
  /** Connection errors, timeouts and non-2xx answers. */
  errors: number;
  /** Every 200 response time, ms, sorted. */
  times: number[];
}

/** Runs autocannon and records every response time (ms, float) for exact percentiles. */
export async function runLoad(
  url: string,
  opts: { connections: number; seconds: number; overallRate?: number; headers?: Record<string, string> },
): Promise<LoadResult> {
  const times: number[] = [];
  const instance = autocannon({
    url,
    connections: opts.connections,
    duration: opts.seconds,
    pipelining: 1,
    ...(opts.headers === undefined ? {} : { headers: opts.headers }),
    ...(opts.overallRate === undefined ? {} : { overallRate: opts.overallRate }),
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status === 200) times.push(ms);
  });
  const result = await instance;
  times.sort((a, b) => a - b);
  return {
    reqPerSec: result.requests.average,
    total: times.length,
    ...percentiles(times),
    errors: result.errors + result.timeouts + result.non2xx,
    times,
  };
}

/** p50 and p99 of response times in ms (sorted or not). */
export function percentiles(times: number[]): { p50: number; p99: number } {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p99: at(0.99) };
}
