/**
 * The processes bench/scale.ts forks from its own script: the client processes
 * (bench/lib/scale-client.ts, `--client`) and the floor heartbeat servers
 * (bench/lib/heartbeat-floor.ts, `--floor <kind>`), how it talks to them over IPC, and the
 * `--cpu-prof` flags of `SCALE_CPU_PROF`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FLOOR_KINDS, type FloorKind } from './heartbeat-floor.js';

/** The script every child runs, told apart by its first argument. */
const SCALE_SCRIPT = fileURLToPath(new URL('../scale.ts', import.meta.url));

/** A running floor server. */
export interface Floor {
  kind: FloorKind;
  child: ChildProcess;
  pid: number;
  url: string;
}

/** `--cpu-prof` flags with SCALE_CPU_PROF; the clients' profiles go to its `clients` subdirectory. */
export function profileArgs(sub = ''): string[] {
  const dir = process.env.SCALE_CPU_PROF;
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${sub === '' ? dir : `${dir}/${sub}`}`];
}

/** With SCALE_CPU_PROF, prints when a phase starts on the monotonic clock (µs), the profile's time base. */
export function mark(phase: string): void {
  if (profileArgs().length > 0) console.log(`  (phase ${phase} at ${process.hrtime.bigint() / 1000n} µs)`);
}

/**
 * Forks client `index` of `clients`, which will register its share of `total` instances in
 * `services` services at `base`; it says it is ready with its first message.
 * @example const c = spawnClient(gw.url, 0, 4, 10_000, 1_000); await ask(c, undefined, 60_000);
 */
export function spawnClient(
  base: string,
  index: number,
  clients: number,
  total: number,
  services: number,
): ChildProcess {
  return fork(SCALE_SCRIPT, ['--client'], {
    execArgv: ['--import', 'tsx', ...profileArgs('clients')],
    env: {
      ...process.env,
      SCALE_BASE: base,
      SCALE_INDEX: String(index),
      SCALE_CLIENTS: String(clients),
      SCALE_TOTAL: String(total),
      SCALE_SERVICES: String(services),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/**
 * Sends `msg` to a client (none: waits for its next message, e.g. ready) and resolves with its answer.
 * @example const reply = await ask(client, { cmd: 'heartbeat', ratePerSec: 100, seconds: 2 }, 120_000);
 */
export function ask(
  child: ChildProcess,
  msg: Record<string, unknown> | undefined,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`client did not answer ${String(msg?.cmd ?? 'ready')} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.once('message', (reply) => {
      clearTimeout(timer);
      resolve(reply as Record<string, unknown>);
    });
    if (msg !== undefined) child.send(msg);
  });
}

/** Every floor server, or none: when one does not start, the ones that did are stopped. */
export async function startFloors(): Promise<Floor[]> {
  const started = await Promise.allSettled(FLOOR_KINDS.map((kind) => startFloor(kind)));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed === undefined) return started.map((r) => (r as PromiseFulfilledResult<Floor>).value);
  for (const r of started) if (r.status === 'fulfilled') r.value.child.kill();
  throw failed.reason;
}

/** A floor heartbeat server (bench/lib/heartbeat-floor.ts) in a process of its own; killed if it does not start. */
async function startFloor(kind: FloorKind): Promise<Floor> {
  const child = fork(SCALE_SCRIPT, ['--floor', kind], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`the ${kind} floor server did not start within 30 s`));
    }, 30_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve((m as { url: string }).url);
    });
  });
  return { kind, child, pid: child.pid!, url };
}
