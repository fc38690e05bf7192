/**
 * What a drill is and what it reports. A drill acts on the running fleet through the control
 * API, watches the gateways, and ends in checks, each PASS or FAIL with the numbers behind it.
 */
import { parseDuration } from '../../lib/config/duration.js';
import type { SandboxClient } from '../cli/control-client.js';
import type { Fleet } from '../fleet-file.js';
import type { SandboxBackend, SandboxState } from '../state-file.js';

/** One invariant a drill checked. */
export interface DrillCheck {
  name: string;
  ok: boolean;
  /** The measured numbers, e.g. "2130 ms ≤ 6000 ms". */
  detail: string;
}

/** How a drill ended. */
export interface DrillResult {
  name: string;
  verdict: 'PASS' | 'FAIL' | 'SKIP';
  ms: number;
  checks: DrillCheck[];
  /** Why it was skipped, or why it could not run at all. */
  reason?: string;
}

/** What a drill gets. */
export interface DrillContext {
  client: SandboxClient;
  /** The state file content when the drill started. */
  state: SandboxState;
  /** The fleet file the sandbox runs. */
  fleet: Fleet;
  /** Scenario parameters (from fixtures/scenarios/<drill>.yaml and --param). */
  params: Record<string, unknown>;
  /** A progress line. */
  log: (line: string) => void;
}

/** A drill. One file each in this directory. */
export interface Drill {
  name: string;
  /** One line: what it does and what must hold. */
  description: string;
  /**
   * The backends the drill applies to (issue #14 gives them in brackets); `drill all` skips the
   * others without running them. @default every backend
   */
  backends?: readonly SandboxBackend[];
  /**
   * Runs the drill. Resolve `{ skip }` when it does not apply to this fleet, else the checks.
   * Must restore the fleet (restart what it crashed) before resolving, even on failure.
   */
  run(ctx: DrillContext): Promise<{ skip: string } | { checks: DrillCheck[] }>;
}

/** A check from a condition. */
export function check(name: string, ok: boolean, detail: string): DrillCheck {
  return { name, ok, detail };
}

/** Reads a numeric parameter (a duration string such as `5s` becomes ms). */
export function numberParam(params: Record<string, unknown>, key: string, fallback: number): number {
  const v = params[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') return parseDuration(v) ?? fallback;
  return fallback;
}

/** Reads a string parameter. */
export function stringParam(params: Record<string, unknown>, key: string): string | undefined {
  const v = params[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** True when `drill` applies to `backend` (see {@link Drill.backends}). */
export function appliesTo(drill: Drill, backend: SandboxBackend): boolean {
  return drill.backends === undefined || drill.backends.includes(backend);
}

/** Waits `ms`: for drills that hold a condition (an outage, a load phase) for a fixed span, never to wait for a state. */
export function hold(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
