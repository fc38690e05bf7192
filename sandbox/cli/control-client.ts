/**
 * How the commands that act (status, crash, restart, scale, drill, down) reach the running
 * sandbox: the state file gives the control URL, the control API does the work.
 */
import { FleetgateError } from '../../lib/errors.js';
import { CONTROL_HEADER } from '../dashboard/control-api.js';
import { pidAlive, readState, type SandboxState } from '../state-file.js';

/** A connection to a running sandbox. */
export interface SandboxClient {
  state: SandboxState;
  statePath: string;
  /** `POST /api/<action>`; rejects with the sandbox's error message. */
  call<T = Record<string, unknown>>(action: string, body?: Record<string, unknown>): Promise<T>;
  /** `GET /api/state`. */
  fetchState<T = Record<string, unknown>>(): Promise<T>;
}

/**
 * Finds the running sandbox through its state file.
 * @throws FleetgateError `ERR_FG_NOT_FOUND` when none runs (or only a stale state file is left).
 */
export function connectSandbox(statePath: string): SandboxClient {
  const state = readState(statePath);
  if (state === undefined) {
    throw new FleetgateError(
      'ERR_FG_NOT_FOUND',
      `no sandbox is running (no state file at ${statePath}); start one with: gw-sandbox up`,
    );
  }
  if (!pidAlive(state.pid)) {
    throw new FleetgateError(
      'ERR_FG_NOT_FOUND',
      `the sandbox recorded in ${statePath} is gone (pid ${state.pid}); clean up with: gw-sandbox down`,
    );
  }
  if (state.controlUrl === '') {
    throw new FleetgateError(
      'ERR_FG_NOT_FOUND',
      `the sandbox (pid ${state.pid}) is still ${state.phase}; try again shortly`,
    );
  }
  return {
    state,
    statePath,
    async call<T>(action: string, body: Record<string, unknown> = {}): Promise<T> {
      const res = await fetch(`${state.controlUrl}/api/${action}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [CONTROL_HEADER]: '1' },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as { ok?: boolean; error?: { code?: string; message?: string } };
      if (!res.ok || json.ok !== true) {
        throw new FleetgateError('ERR_FG_NOT_FOUND', json.error?.message ?? `${action} failed (HTTP ${res.status})`, {
          status: res.status,
        });
      }
      return json as T;
    },
    async fetchState<T>(): Promise<T> {
      const res = await fetch(`${state.controlUrl}/api/state`);
      return (await res.json()) as T;
    },
  };
}
