/**
 * A registered service as a child process (service-child.ts run through tsx), for tests that
 * need a real crash: SIGKILL stops its heartbeats at once and nothing deregisters it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { RouteSpec } from '../../lib/registry/model.js';
import { FLEETGATE_ROOT } from './gateway-process.js';

/** What the child is told (the `FLEETGATE_E2E_SERVICE` JSON). */
export interface ServiceChildConfig {
  /** Gateway base URL it registers and heartbeats with. */
  gateway: string;
  service: string;
  /** Named in its replies (see upstream-service.ts). */
  label: string;
  routes: RouteSpec[];
  instanceId?: string;
}

/** What the child reports once registered. */
export interface ServiceChildReady {
  url: string;
  instanceId: string;
  ttlMs: number;
  heartbeatIntervalMs: number;
}

/** A running service child. */
export interface ServiceProcess extends AsyncDisposable {
  readonly child: ChildProcess;
  readonly ready: ServiceChildReady;
  output(): string;
  /** SIGKILL: heartbeats stop, no deregistration. Resolves once the process is gone. */
  kill(): Promise<void>;
}

const ENTRY = 'e2e/support/service-child.ts';
const READY = /service ready (\{.*\})\n/;

/**
 * Spawns a service child and waits until it is registered.
 * @example
 * await using svc = await startServiceProcess({ gateway: a.url, service: 'crashy', label: 'crashy-1', routes });
 * await svc.kill();
 */
export async function startServiceProcess(config: ServiceChildConfig, timeoutMs = 30_000): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
    cwd: FLEETGATE_ROOT,
    env: { ...process.env, FLEETGATE_E2E_SERVICE: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  let out = '';
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      process.off('exit', killOnExit);
      resolve();
    });
  });
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  try {
    const ready = await new Promise<ServiceChildReady>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`service child not ready within ${timeoutMs} ms:\n${out}`)),
        timeoutMs,
      );
      child.stdout?.setEncoding('utf8').on('data', (s: string) => {
        out += s;
        const m = READY.exec(out);
        if (m === null) return;
        clearTimeout(timer);
        resolve(JSON.parse(m[1]!) as ServiceChildReady);
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`service child exited before registering:\n${out}`));
      });
    });
    return { child, ready, output: () => out, kill, [Symbol.asyncDispose]: kill };
  } catch (err) {
    await kill();
    throw err;
  }
}
