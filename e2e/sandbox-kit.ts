/**
 * Shared by the sandbox e2e tests: run the `gw-sandbox` CLI as a real child process with its own
 * state directory, and prove afterwards that nothing it started is left.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portFree } from '../sandbox/cli/down.js';
import { nodeEntry, SANDBOX_ENTRY } from '../sandbox/paths.js';
import { pidAlive, readState, type SandboxState } from '../sandbox/state-file.js';
import { killRecordedGroups } from '../sandbox/supervisor.js';

/** What a CLI run printed. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** A sandbox state directory for one test, with a CLI bound to it. */
export class SandboxCli {
  readonly dir: string;
  readonly statePath: string;
  #pids = new Set<number>();
  #ports = new Set<number>();

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'gw-sandbox-e2e-'));
    this.statePath = join(this.dir, '.gw-sandbox', 'state.json');
  }

  /** Runs `gw-sandbox <args>` (from the sources, through tsx) in the test's directory. */
  run(args: string[], timeoutMs = 60_000): Promise<CliResult> {
    const entry = nodeEntry(SANDBOX_ENTRY);
    const t0 = Date.now();
    return new Promise((resolve, reject) => {
      const child = spawn(entry.command, [...entry.args, ...args], {
        cwd: this.dir,
        env: { ...process.env, GW_SANDBOX_STATE: this.statePath, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => {
        stdout += c;
      });
      child.stderr.on('data', (c: Buffer) => {
        stderr += c;
      });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`gw-sandbox ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
      }, timeoutMs);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, ms: Date.now() - t0 });
      });
    });
  }

  /** The current state file; also remembers every pid and port seen, for {@link leftovers}. */
  state(): SandboxState | undefined {
    const s = readState(this.statePath);
    if (s !== undefined) {
      this.#pids.add(s.pid);
      for (const p of s.processes) {
        if (p.pid !== undefined) this.#pids.add(p.pid);
        if (p.port !== undefined && p.role !== 'store') this.#ports.add(p.port);
      }
      if (s.controlUrl) this.#ports.add(Number(new URL(s.controlUrl).port));
    }
    return s;
  }

  /** Recorded pids still alive and recorded ports still taken. */
  async leftovers(): Promise<{ pids: number[]; ports: number[] }> {
    const pids = [...this.#pids].filter((p) => stillRunning(p));
    const ports: number[] = [];
    for (const p of this.#ports) if (!(await portFree(p))) ports.push(p);
    return { pids, ports };
  }

  /** Last resort for a failed test: stop whatever is recorded, remove the directory. */
  async cleanup(): Promise<void> {
    this.state();
    const live = [...this.#pids].filter((p) => pidAlive(p));
    if (live.length > 0) {
      await this.run(['down'], 40_000).catch(() => undefined);
      await killRecordedGroups([...this.#pids].filter((p) => pidAlive(p)));
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * True while `pid` runs: `process.kill(pid, 0)` does not throw ESRCH. A zombie (exited, not yet
 * reaped, which is what a detached supervisor becomes where PID 1 does not reap orphans) holds
 * no resources and counts as gone.
 */
export function stillRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
  return pidAlive(pid);
}
