/**
 * Shared by the drill e2e tests (`e2e/drill-*.test.ts`): start one sandbox per backend with the
 * real CLI, run the drills once with `--json`, and give each drill's result to its own test, so
 * a failing drill names itself and shows every invariant with its measured value.
 */
import assert from 'node:assert/strict';
import type { DrillResult } from '../sandbox/drills/drill.js';
import { SandboxCli } from './sandbox-kit.js';

/** What `gw-sandbox drill ... --json` prints on stdout. */
export interface DrillReport {
  backend: string;
  drills: DrillResult[];
}

/** One sandbox and the report of one drill run against it. */
export class DrillSession {
  readonly cli = new SandboxCli();
  #report: DrillReport | undefined;
  #output = '';

  /** `gw-sandbox up --detach <args>`; throws with the output when it fails. */
  async up(args: string[]): Promise<void> {
    const up = await this.cli.run(['up', '--detach', ...args], 120_000);
    assert.equal(up.code, 0, `up failed:\n${up.stdout}\n${up.stderr}`);
    this.cli.state();
  }

  /** Runs the named drills in one CLI call (progress on stderr, JSON on stdout). */
  async drill(names: readonly string[], backend: string, extra: string[] = [], timeoutMs = 240_000): Promise<void> {
    const run = await this.cli.run(['drill', names.join(','), '--backend', backend, '--json', ...extra], timeoutMs);
    this.#output = run.stderr;
    // Progress and the table go to stderr; print them so a CI log shows the measured values.
    process.stdout.write(`${run.stderr}\n`);
    try {
      this.#report = JSON.parse(run.stdout) as DrillReport;
    } catch {
      throw new Error(`drill printed no JSON report (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
    }
  }

  /** Asserts that `name` ran and PASSed, with every invariant in the failure message. */
  assertPass(name: string): DrillResult {
    const r = this.#report?.drills.find((d) => d.name === name);
    assert.ok(r !== undefined, `drill ${name} did not run:\n${this.#output}`);
    const lines = r.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`).join('\n');
    assert.equal(r.verdict, 'PASS', `drill ${name} ${r.verdict}${r.reason ? `: ${r.reason}` : ''}\n${lines}`);
    assert.ok(r.checks.length > 0 && r.checks.every((c) => c.ok));
    return r;
  }

  /** `down`, then proof nothing is left; the directory goes in any case. */
  async down(): Promise<void> {
    try {
      this.cli.state();
      const down = await this.cli.run(['down'], 60_000);
      assert.equal(down.code, 0, down.stderr);
      assert.deepEqual(await this.cli.leftovers(), { pids: [], ports: [] });
    } finally {
      await this.cli.cleanup();
    }
  }
}
