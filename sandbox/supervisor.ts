/**
 * Child processes of the sandbox. Each child leads its own process group (`detached: true`), so
 * stopping or crashing it signals the whole group and nothing it started survives; a Ctrl-C in
 * the terminal reaches only the supervisor, which then stops the children in order. Every Node
 * child preloads `parent-watch` and stops itself if the supervisor dies first.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, createWriteStream, openSync, readFileSync, statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { FleetgateError } from '../lib/errors.js';
import { nodeEntry, PACKAGE_ROOT } from './paths.js';
import { pidAlive } from './state-file.js';

/** What to run. */
export interface ChildSpec {
  /** Unique name, used in messages. */
  name: string;
  command: string;
  args: string[];
  /** Added to the supervisor's own environment. */
  env?: Record<string, string | undefined>;
  /** stdout and stderr are appended here. */
  logFile: string;
  /** Open an IPC channel (Node children: readiness messages and parent-death detection). @default false */
  ipc?: boolean;
  /** Called with each stdout line (stdout is then piped through the supervisor into the log). */
  onStdoutLine?: (line: string) => void;
}

/** How a child ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the supervisor asked for it (stop or crash), false when it died on its own. */
  requested: boolean;
}

/** Events of {@link ManagedChild}. */
interface ManagedChildEvents {
  exit: [ChildExit];
  message: [unknown];
}

/**
 * One supervised child process.
 * @example
 * const child = new ManagedChild(nodeChildSpec('gateway-1', 'lib/bin/fleetgate.ts', [], env, log));
 * await child.start();
 * await child.stop();
 */
export class ManagedChild extends EventEmitter<ManagedChildEvents> {
  readonly spec: ChildSpec;
  #proc: ChildProcess | undefined;
  #exited: Promise<ChildExit> | undefined;
  #requested = false;

  constructor(spec: ChildSpec) {
    super();
    this.spec = spec;
  }

  /** The group leader's pid while it runs. */
  get pid(): number | undefined {
    return this.#proc !== undefined && this.#proc.exitCode === null && this.#proc.signalCode === null
      ? this.#proc.pid
      : undefined;
  }

  /** True while the process runs. */
  get running(): boolean {
    return this.pid !== undefined;
  }

  /** Spawns the process; resolves once it has a pid, rejects if it cannot be spawned at all. */
  async start(): Promise<void> {
    if (this.running) return;
    this.#requested = false;
    const fd = openSync(this.spec.logFile, 'a');
    const tap = this.spec.onStdoutLine;
    const out = tap === undefined ? fd : 'pipe';
    const proc = spawn(this.spec.command, this.spec.args, {
      cwd: PACKAGE_ROOT,
      env: { ...process.env, ...this.spec.env },
      stdio: this.spec.ipc ? ['ignore', out, fd, 'ipc'] : ['ignore', out, fd],
      detached: true,
    });
    closeSync(fd);
    this.#proc = proc;
    if (tap !== undefined && proc.stdout !== null) {
      const log = createWriteStream(this.spec.logFile, { flags: 'a' });
      let partial = '';
      proc.stdout.on('data', (chunk: Buffer) => {
        log.write(chunk);
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) tap(line);
      });
      proc.stdout.once('close', () => log.end());
    }
    this.#exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        const exit = { code, signal, requested: this.#requested };
        resolve(exit);
        this.emit('exit', exit);
      });
    });
    proc.on('message', (m) => this.emit('message', m));
    await new Promise<void>((resolve, reject) => {
      proc.once('spawn', resolve);
      proc.once('error', (err) =>
        reject(
          new FleetgateError('ERR_FG_INVALID_CONFIG', `cannot start ${this.spec.name}: ${err.message}`, { cause: err }),
        ),
      );
    });
  }

  /**
   * Waits for an IPC message matching `accept`, failing early with the log tail if the child
   * exits first or the deadline passes.
   */
  waitForMessage<T>(accept: (m: unknown) => T | undefined, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const proc = this.#proc;
      if (proc === undefined || !this.running) {
        reject(this.#failure('is not running'));
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        this.off('message', onMessage);
        this.off('exit', onExit);
      };
      const onMessage = (m: unknown): void => {
        const v = accept(m);
        if (v === undefined) return;
        done();
        resolve(v);
      };
      const onExit = (e: ChildExit): void => {
        done();
        reject(this.#failure(`exited (${e.signal ?? `code ${e.code}`}) before it was ready`));
      };
      const timer = setTimeout(() => {
        done();
        reject(this.#failure(`was not ready within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('message', onMessage);
      this.on('exit', onExit);
    });
  }

  /** Polls `probe` until it resolves true; fails early if the child exits, or at the deadline. */
  async waitUntil(probe: () => Promise<boolean>, timeoutMs: number, what = 'ready'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw this.#failure(`exited before it was ${what}`);
      if (await probe().catch(() => false)) return;
      await delay(50);
    }
    throw this.#failure(`was not ${what} within ${timeoutMs} ms`);
  }

  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves when the leader has exited and the group is gone. */
  async stop(graceMs = 5000): Promise<ChildExit | undefined> {
    const proc = this.#proc;
    const exited = this.#exited;
    if (proc === undefined || exited === undefined) return undefined;
    this.#requested = true;
    const pid = proc.pid;
    if (this.running && pid !== undefined) {
      signalGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    // Anything left in the group after the leader exited (grandchildren) goes too.
    if (pid !== undefined) signalGroup(pid, 'SIGKILL');
    return exited;
  }

  /** kill -9 of the whole group, as a crash would; resolves when it is gone. */
  async kill(): Promise<ChildExit | undefined> {
    const proc = this.#proc;
    const exited = this.#exited;
    if (proc === undefined || exited === undefined) return undefined;
    this.#requested = true;
    if (proc.pid !== undefined) {
      signalGroup(proc.pid, 'SIGKILL');
      await exited;
    }
    return exited;
  }

  /** The last `lines` lines of the child's log. */
  logTail(lines = 15): string {
    try {
      const size = statSync(this.spec.logFile).size;
      const text = readFileSync(this.spec.logFile, 'utf8').slice(Math.max(0, size - 8192));
      return text.trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  #failure(what: string): FleetgateError {
    const tail = this.logTail();
    return new FleetgateError(
      'ERR_FG_INVALID_CONFIG',
      `${this.spec.name} ${what}${tail ? `\n--- last lines of ${this.spec.logFile} ---\n${tail}` : ''}`,
      { details: { name: this.spec.name, log: this.spec.logFile } },
    );
  }
}

/**
 * Sends `signal` to the process group led by `pgid`; when there is no such group (a foreground
 * `up` is not a group leader) to the process alone. One that is already gone is fine.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  for (const target of [-pgid, pgid]) {
    try {
      process.kill(target, signal);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
}

/**
 * Stops processes recorded in a state file whose supervisor is gone: SIGTERM to each group,
 * then SIGKILL to whatever is left after `graceMs`. Resolves the pids still alive (should be none).
 */
export async function killRecordedGroups(pids: number[], graceMs = 3000): Promise<number[]> {
  const live = pids.filter((p) => pidAlive(p));
  for (const pid of live) signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && live.some((p) => pidAlive(p))) await delay(50);
  for (const pid of live) if (pidAlive(pid)) signalGroup(pid, 'SIGKILL');
  const killDeadline = Date.now() + 2000;
  while (Date.now() < killDeadline && live.some((p) => pidAlive(p))) await delay(50);
  return live.filter((p) => pidAlive(p));
}

/**
 * A {@link ChildSpec} for one of the package's own Node entry points, with `parent-watch`
 * preloaded and an IPC channel, run from source through tsx or from `dist/`.
 */
export function nodeChildSpec(
  name: string,
  entry: string,
  args: string[],
  env: Record<string, string | undefined>,
  logFile: string,
): ChildSpec {
  const base = nodeEntry(entry);
  const watch = nodeEntry('sandbox/parent-watch.ts');
  const watchFile = watch.args.at(-1) as string;
  // `--import <tsx>` when either file is TypeScript; it must come before the TypeScript preload.
  const tsx = base.args.length > 1 ? base.args.slice(0, -1) : watch.args.slice(0, -1);
  const nodeArgs = [...tsx, '--import', pathToFileURL(watchFile).href, base.args.at(-1) as string];
  return { name, command: base.command, args: [...nodeArgs, ...args], env, logFile, ipc: true };
}

/**
 * A promise that resolves after `ms`. Deliberately not unref'd: the CLI's polling loops are
 * what keeps the process alive while it waits.
 */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
