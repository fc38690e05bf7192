/**
 * A child server process owned by a test: spawned with captured output, stopped by PID
 * (SIGTERM, then SIGKILL after a bound), and SIGKILLed by a process `exit` hook if the test
 * crashes before stopping it, so no redis-server or etcd outlives the test run (their temp data
 * directories are deleted by the same hook).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';

const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let hooksInstalled = false;

function killAllSync(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
  live.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Deletes `dir` when the process exits, unless {@link removeTempDir} removed it first. */
export function removeOnExit(dir: string): void {
  installHooks();
  tempDirs.add(dir);
}

/** Deletes a temp dir now (and forgets it for the exit hook). */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllSync);
  // A signal kills node without running 'exit' hooks; clean up, then die of the same signal
  // unless someone else handles it.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAllSync();
      if (process.listenerCount(signal) === 1) {
        process.off(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

/** How to start a {@link ManagedProcess}. */
export interface ManagedProcessOptions {
  /** Shown in errors, e.g. `redis-server:12345`. */
  name: string;
  command: string;
  args: readonly string[];
  cwd?: string;
  /** The child's whole environment. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Lines of output kept for error messages. @default 60 */
  keepLines?: number;
}

/** One spawned server process. */
export class ManagedProcess {
  readonly name: string;
  readonly #child: ChildProcess;
  readonly #lines: string[] = [];
  readonly #keep: number;
  /** Resolves with the exit code (or signal) once the process is gone. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
  #exitedNow = false;

  constructor(options: ManagedProcessOptions) {
    installHooks();
    this.name = options.name;
    this.#keep = options.keepLines ?? 60;
    this.#child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(this.#child);
    this.exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        this.#exitedNow = true;
        live.delete(this.#child);
        resolve(code ?? signal);
      });
      // spawn failures (ENOENT) surface as 'error' without 'exit'.
      this.#child.once('error', (err) => {
        this.#record(`spawn error: ${err.message}`);
        this.#exitedNow = true;
        live.delete(this.#child);
        resolve(null);
      });
    });
    for (const stream of [this.#child.stdout, this.#child.stderr]) {
      stream?.setEncoding('utf8');
      // Output must be drained or a chatty server blocks on a full pipe.
      stream?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (line.trim() !== '') this.#record(line);
      });
    }
    // The test's own handles decide when it exits; the exit hook kills what is left.
    this.#child.unref();
    for (const s of [this.#child.stdout, this.#child.stderr]) (s as unknown as { unref?: () => void })?.unref?.();
  }

  /** The OS process id. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** True until the process has exited. */
  get running(): boolean {
    return !this.#exitedNow;
  }

  /** The last lines the process printed, for error messages. */
  output(): string {
    return this.#lines.join('\n');
  }

  /** SIGTERM, then SIGKILL if still alive after `graceMs`. Resolves once the process is gone. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.running) return;
    // Waiting for 'exit' needs a ref'd handle, or node ends the event loop mid-await.
    this.#child.ref();
    this.#child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const outcome = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') await this.kill();
  }

  /** SIGKILL: the hard crash used by outage tests. Resolves once the process is gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.#child.ref();
    this.#child.kill('SIGKILL');
    await this.exited;
  }

  #record(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.#keep) this.#lines.shift();
  }
}
