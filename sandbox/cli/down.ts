/**
 * `gw-sandbox down`: stops the running sandbox and proves it: every recorded process is gone
 * and every port it used is free. Works even when the supervisor died (kills the recorded
 * process groups itself).
 */
import { createServer } from 'node:net';
import { Command } from 'commander';
import { FleetgateError } from '../../lib/errors.js';
import { CONTROL_HEADER } from '../dashboard/control-api.js';
import { pidAlive, readState, removeState } from '../state-file.js';
import { delay, killRecordedGroups, signalGroup } from '../supervisor.js';
import { resolveStatePath } from './common.js';

/** How long the supervisor may take to stop its fleet before `down` takes over. */
const SHUTDOWN_TIMEOUT_MS = 30_000;

/** The `down` command. */
export function downCommand(): Command {
  return new Command('down')
    .description('stop the running sandbox; verifies that no process is left and every port is free')
    .action(async (_opts: unknown, cmd: Command) => {
      const statePath = resolveStatePath(cmd);
      const state = readState(statePath);
      if (state === undefined) {
        console.log(`nothing to stop (no state file at ${statePath})`);
        return;
      }
      const t0 = Date.now();
      const pids = [state.pid, ...state.processes.flatMap((p) => (p.pid === undefined ? [] : [p.pid]))];
      const ports = [
        ...state.processes.flatMap((p) => (p.port === undefined || p.role === 'store' ? [] : [p.port])),
        ...(state.controlUrl ? [Number(new URL(state.controlUrl).port)] : []),
      ];
      const aliveAtStart = pids.filter((p) => pidAlive(p)).length;
      if (pidAlive(state.pid)) {
        const asked = await askToStop(state.controlUrl);
        if (!asked) signalGroup(state.pid, 'SIGTERM');
        const deadline = Date.now() + SHUTDOWN_TIMEOUT_MS;
        while (pidAlive(state.pid) && Date.now() < deadline) await delay(100);
        if (pidAlive(state.pid))
          console.log(`the supervisor (pid ${state.pid}) did not stop within ${SHUTDOWN_TIMEOUT_MS} ms; killing`);
      } else {
        console.log(`the supervisor (pid ${state.pid}) is already gone; cleaning up what it left`);
      }
      // Whatever is still alive (a supervisor that hung, children of a dead one) goes now.
      // The supervisor's own group holds processes it started without a group of their own (local store servers).
      const left = await killRecordedGroups(pids.filter((p) => pidAlive(p)));
      if (left.length > 0) {
        throw new FleetgateError('ERR_FG_INVALID_CONFIG', `could not stop pids ${left.join(', ')}; kill them by hand`);
      }
      const busy = await waitPortsFree(ports, 5000);
      removeState(statePath);
      if (busy.length > 0) {
        throw new FleetgateError('ERR_FG_INVALID_CONFIG', `stopped, but ports ${busy.join(', ')} are still in use`);
      }
      console.log(
        `✓ stopped ${aliveAtStart} process${aliveAtStart === 1 ? '' : 'es'} in ${Date.now() - t0} ms` +
          `${aliveAtStart < pids.length ? ` (${pids.length - aliveAtStart} already gone)` : ''}; no process left, ${ports.length} ports free`,
      );
    });
}

async function askToStop(controlUrl: string): Promise<boolean> {
  if (!controlUrl) return false;
  try {
    const res = await fetch(`${controlUrl}/api/shutdown`, {
      method: 'POST',
      headers: { [CONTROL_HEADER]: '1' },
      signal: AbortSignal.timeout(3000),
    });
    return res.ok;
  } catch {
    return false;
  }
}

/** Resolves the ports still busy at the deadline (none, normally). */
async function waitPortsFree(ports: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let busy = ports;
  for (;;) {
    const results = await Promise.all(busy.map(async (p) => ((await portFree(p)) ? undefined : p)));
    busy = results.filter((p): p is number => p !== undefined);
    if (busy.length === 0 || Date.now() >= deadline) return busy;
    await delay(100);
  }
}

/** True when 127.0.0.1:port can be listened on. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
