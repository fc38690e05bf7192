/**
 * The small JSON file through which the sandbox commands find the running fleet: the `up`
 * process writes it on every change (pids move when things restart), `status`/`crash`/`down`
 * read it. Written atomically (temp file + rename) so a reader never sees half a file.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** The registry backends the sandbox can run. */
export type SandboxBackend = 'memory' | 'redis' | 'redis-cluster' | 'etcd';
/** All of {@link SandboxBackend}. */
export const SANDBOX_BACKENDS: readonly SandboxBackend[] = ['memory', 'redis', 'redis-cluster', 'etcd'];

/** One process (or container) the fleet runs. */
export interface ProcessRecord {
  role: 'gateway' | 'service' | 'store';
  /** Unique name: `gateway-1`, `orders-2`, `redis`. */
  name: string;
  /** The service, for `role: 'service'`. */
  service?: string;
  /** Process id (group leader); absent for containers or while restarting. */
  pid?: number;
  /** Base URL (or store address). */
  url?: string;
  /** The port it listens on. */
  port?: number;
  status: 'starting' | 'running' | 'crashed' | 'stopped' | 'restarting';
  /** Where its stdout/stderr go. */
  log?: string;
}

/** The content of the state file. */
export interface SandboxState {
  version: 1;
  /** Pid of the `up` process (the supervisor). */
  pid: number;
  startedAt: string;
  /** `starting` until everything runs, then `running`; `stopping` during shutdown. */
  phase: 'starting' | 'running' | 'stopping';
  backend: SandboxBackend;
  /** How the store runs (`memory`, `local`, `testcontainers`). */
  provider: string;
  fleetFile: string;
  /** Dashboard and control API base URL. */
  controlUrl: string;
  gatewayUrls: string[];
  /** Store address as gateways see it (redis://…, host:port,…), absent for memory. */
  storeUrl?: string;
  logDir: string;
  processes: ProcessRecord[];
}

/** The state file path: `$GW_SANDBOX_STATE`, else `.gw-sandbox/state.json` in the working directory. */
export function stateFilePath(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const override = env.GW_SANDBOX_STATE?.trim();
  return resolve(cwd, override !== undefined && override !== '' ? override : '.gw-sandbox/state.json');
}

/** Reads the state file; `undefined` when there is none or it is unreadable. */
export function readState(path: string): SandboxState | undefined {
  try {
    const s = JSON.parse(readFileSync(path, 'utf8')) as SandboxState;
    return s && s.version === 1 && typeof s.pid === 'number' ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the state file atomically, creating its directory. */
export function writeState(path: string, state: SandboxState): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, path);
}

/** Removes the state file (missing is fine). */
export function removeState(path: string): void {
  rmSync(path, { force: true });
}

/**
 * True when a process with this pid exists and is not a zombie (signal 0 probes without killing).
 * Zombies count as gone: they hold no ports or memory, and where PID 1 does not reap orphans
 * (some container inits) a detached supervisor stays one forever after it exits.
 */
export function pidAlive(pid: number | undefined): boolean {
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/** Linux only: the process state letter in /proc/<pid>/stat is `Z`. Elsewhere always false. */
export function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself contain spaces or parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}
