/**
 * The `fleetgate` bin as a child process for e2e tests: spawned with the inherited environment
 * minus every fleetgate variable, plus the test's own; ready once it prints
 * `fleetgate listening on http://host:port`; SIGKILLed by a process `exit` hook if a test
 * crashes before stopping it, so no gateway outlives the test run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root (the bin runs with it as cwd). */
export const FLEETGATE_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The bin's source, run through tsx. */
export const FLEETGATE_BIN = 'lib/bin/fleetgate.ts';

/** Variables the bin reads; inherited ones are dropped so the developer's shell cannot leak in. */
const FLEETGATE_VARIABLE =
  /^(REGISTRY_|HEALTH_|ADMIN_|SERVER_|SHUTDOWN_|PANIC_THRESHOLD$|ERUGATEWAYPORT$|PORT$|HOST$|TRACE_URL$|LOG_LEVEL$|ACCESS_LOG$|TRUSTED_PROXIES$|GATEWAY_NAME$|GATEWAY_MAX_HOPS$)/;
/** Output kept per process, for error messages and assertions (the tail is what matters). */
const MAX_OUTPUT_CHARS = 256 * 1024;
const LISTENING = /fleetgate listening on (http:\/\/\S+)/;

/** How a gateway process ended. */
export interface GatewayExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Options for {@link spawnGateway} and {@link startGateway}. */
export interface GatewayProcessOptions {
  /** Shown in errors. @default 'fleetgate' */
  name?: string;
  /** Bound on start-up for {@link startGateway}. @default 30000 */
  startTimeoutMs?: number;
  /**
   * A built bin (`…/lib/bin/fleetgate.js`) to run with plain `node`, as users run it, instead of
   * the source under tsx (benches: tsx's loader costs memory and start-up time of its own).
   */
  builtBin?: string;
  /** Extra `node` flags for the child, e.g. `['--cpu-prof']`. @default [] */
  nodeArgs?: readonly string[];
}

const live = new Set<ChildProcess>();
let hookInstalled = false;

function installExitHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
}

/**
 * The environment a gateway child gets: `process.env` without fleetgate variables, plus `extra`.
 * @example spawn(cmd, args, { env: fleetgateEnv({ PORT: '0', REGISTRY_TYPE: 'REDIS' }) })
 */
export function fleetgateEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!FLEETGATE_VARIABLE.test(key)) env[key] = value;
  return { ...env, ...extra };
}

/** One running (or exited) `fleetgate` bin. */
export class GatewayProcess implements AsyncDisposable {
  readonly name: string;
  readonly child: ChildProcess;
  /** `Date.now()` at spawn. */
  readonly spawnedAt = Date.now();
  /** Resolves once the process has exited. */
  readonly exited: Promise<GatewayExit>;
  #stdout = '';
  #stderr = '';
  #url: string | undefined;
  #readyAt: number | undefined;
  #exit: GatewayExit | undefined;
  readonly #listeners = new Set<() => void>();

  /** Use {@link spawnGateway} or {@link startGateway}. */
  constructor(
    env: NodeJS.ProcessEnv,
    name: string,
    options: Pick<GatewayProcessOptions, 'builtBin' | 'nodeArgs'> = {},
  ) {
    installExitHook();
    this.name = name;
    const entry = options.builtBin === undefined ? ['--import', 'tsx', FLEETGATE_BIN] : [options.builtBin];
    this.child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...entry], {
      cwd: FLEETGATE_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(this.child);
    this.exited = new Promise((resolve) => {
      const done = (exit: GatewayExit): void => {
        if (this.#exit !== undefined) return;
        this.#exit = exit;
        live.delete(this.child);
        resolve(exit);
        this.#notify();
      };
      this.child.once('exit', (code, signal) => done({ code, signal }));
      // A spawn failure (ENOENT) emits 'error' and never 'exit'.
      this.child.once('error', (err) => {
        this.#stderr += `spawn error: ${err.message}\n`;
        done({ code: null, signal: null });
      });
    });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stdout = cap(this.#stdout + chunk);
      if (this.#url === undefined) {
        const m = LISTENING.exec(this.#stdout);
        if (m !== null) {
          // The bin prints this once it accepts connections: the most precise "ready" there is.
          this.#url = m[1]!;
          this.#readyAt = Date.now();
        }
      }
      this.#notify();
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr = cap(this.#stderr + chunk);
    });
  }

  /** The base URL it printed, once listening. */
  get url(): string | undefined {
    return this.#url;
  }

  /** The port it listens on, once listening. */
  /** POSTs a registration (the furt body, snake_case) to the gateway's registration API. */
  register(body: Record<string, unknown>): Promise<Response> {
    if (this.#url === undefined) throw new Error(`${this.name} is not listening`);
    return fetch(`${this.#url}/internal/register-service`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  get port(): number | undefined {
    return this.#url === undefined ? undefined : Number(new URL(this.#url).port);
  }

  /** `Date.now()` when it printed its listening line. */
  get readyAt(): number | undefined {
    return this.#readyAt;
  }

  /** ms from spawn to the listening line. */
  get startupMs(): number | undefined {
    return this.#readyAt === undefined ? undefined : this.#readyAt - this.spawnedAt;
  }

  /** True until the process has exited. */
  get running(): boolean {
    return this.#exit === undefined;
  }

  /** Everything printed on stdout (the tail, if it was very chatty). */
  stdout(): string {
    return this.#stdout;
  }

  /** Everything printed on stderr (the tail, if it was very chatty). */
  stderr(): string {
    return this.#stderr;
  }

  /** stdout then stderr, for error messages. */
  output(): string {
    return `--- ${this.name} stdout\n${this.#stdout}--- ${this.name} stderr\n${this.#stderr}`;
  }

  /** Resolves the base URL once the listening line appears; rejects if it exits first or after `timeoutMs`. */
  waitForListening(timeoutMs = 30_000): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const check = (): boolean => {
        if (this.#url !== undefined) resolve(this.#url);
        else if (this.#exit !== undefined)
          reject(new Error(`${this.name} exited (${describeExit(this.#exit)}) before listening\n${this.output()}`));
        else return false;
        return true;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.#listeners.delete(listener);
        reject(new Error(`${this.name} did not print its listening line within ${timeoutMs} ms\n${this.output()}`));
      }, timeoutMs);
      const listener = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        this.#listeners.delete(listener);
      };
      this.#listeners.add(listener);
    });
  }

  /** SIGTERM (graceful shutdown), then SIGKILL if still running after `graceMs`. */
  async stop(graceMs = 5000): Promise<GatewayExit> {
    if (this.#exit !== undefined) return this.#exit;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const outcome = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    return outcome === 'timeout' ? this.kill() : outcome;
  }

  /** SIGKILL: a crash. Resolves once the process is gone. */
  async kill(): Promise<GatewayExit> {
    if (this.#exit !== undefined) return this.#exit;
    this.child.kill('SIGKILL');
    return this.exited;
  }

  /** Same as {@link kill}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

/**
 * Spawns the bin without waiting for it: `env` is added to the cleaned environment as is (no
 * defaults), for tests that expect it to fail at start-up.
 * @example
 * const bin = spawnGateway({ PORT: '0', REGISTRY_TTL: 'banana' });
 * assert.equal((await bin.exited).code, 1);
 */
export function spawnGateway(env: Record<string, string>, options: GatewayProcessOptions = {}): GatewayProcess {
  return new GatewayProcess(fleetgateEnv(env), options.name ?? 'fleetgate', options);
}

/**
 * Spawns the bin and waits for its listening line. `PORT=0`, `HOST=127.0.0.1` and
 * `LOG_LEVEL=warn` unless `env` says otherwise. Kills the process if it does not come up.
 * @example
 * await using gateway = await startGateway({ REGISTRY_TYPE: 'REDIS', REGISTRY_REDIS_ADDR: redis.url });
 * await fetch(`${gateway.url}/health`);
 */
export async function startGateway(
  env: Record<string, string> = {},
  options: GatewayProcessOptions = {},
): Promise<GatewayProcess & { readonly url: string; readonly port: number }> {
  const gateway = spawnGateway({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env }, options);
  try {
    await gateway.waitForListening(options.startTimeoutMs ?? 30_000);
  } catch (err) {
    await gateway.kill();
    throw err;
  }
  return gateway as GatewayProcess & { readonly url: string; readonly port: number };
}

function describeExit(exit: GatewayExit): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `code ${exit.code}`;
}

function cap(s: string): string {
  return s.length > MAX_OUTPUT_CHARS ? s.slice(s.length - MAX_OUTPUT_CHARS) : s;
}
