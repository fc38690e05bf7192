/**
 * One run of `gw-sandbox up`, in the process that owns the fleet: starts the store, the
 * gateways and the fake services, the dashboard (with the control API), keeps the state file
 * current, and tears everything down on {@link SandboxSession.stop}.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FleetgateError } from '../lib/errors.js';
import { processTable, progressLine } from './cli/format.js';
import { FleetView } from './dashboard/fleet-view.js';
import { type DashboardServer, startDashboardServer } from './dashboard/server.js';
import { EventLog, type SandboxEvent } from './event-log.js';
import { loadFleetFile } from './fleet-file.js';
import { FleetRunner } from './fleet-runner.js';
import { startStore } from './infra/select-provider.js';
import type { ProviderChoice, RunningStore } from './infra/store.js';
import { pidAlive, readState, removeState, type SandboxBackend, type SandboxState, writeState } from './state-file.js';
import { killRecordedGroups } from './supervisor.js';

/** Options of {@link startSession}. */
export interface SessionOptions {
  backend: SandboxBackend;
  fleetFile: string;
  /** Overrides the fleet file's gateway count. */
  gateways: number | undefined;
  provider: ProviderChoice;
  statePath: string;
  /** Overrides the fleet file's dashboard port. */
  dashboardPort: number | undefined;
  /** Where progress and notices go (a line at a time). */
  print: (line: string) => void;
}

/** A running sandbox. */
export interface SandboxSession {
  state: SandboxState;
  events: EventLog;
  /** Stops everything and removes the state file. Idempotent. */
  stop(): Promise<void>;
  /** Resolves, with how long stopping took in ms, once the session has stopped (by {@link stop} or `POST /api/shutdown`). */
  stopped: Promise<number>;
}

/**
 * Starts the sandbox. On failure everything started so far is stopped and the error says what
 * failed, with the tail of its log.
 */
export async function startSession(o: SessionOptions): Promise<SandboxSession> {
  const started = Date.now();
  await clearStaleState(o.statePath, o.print);
  const fleet = loadFleetFile(o.fleetFile);
  let gateways = o.gateways ?? fleet.gateway.count;
  if (o.backend === 'memory' && gateways > 1) {
    o.print(
      `note: the memory backend keeps the registry inside the gateway process, so it cannot be shared between gateways; running 1 gateway (use --backend redis or etcd for ${gateways}).`,
    );
    gateways = 1;
  }
  const logDir = join(dirname(o.statePath), 'logs');
  mkdirSync(logDir, { recursive: true });
  // Fresh logs per run: a crash report should not be mixed with the previous run's.
  for (const f of readdirSync(logDir)) if (f.endsWith('.log')) rmSync(join(logDir, f), { force: true });

  const events = new EventLog();
  const state: SandboxState = {
    version: 1,
    pid: process.pid,
    startedAt: new Date(started).toISOString(),
    phase: 'starting',
    backend: o.backend,
    provider: 'memory',
    fleetFile: o.fleetFile,
    controlUrl: '',
    gatewayUrls: [],
    logDir,
    processes: [],
  };
  writeState(o.statePath, state);

  let store: RunningStore | undefined;
  let runner: FleetRunner | undefined;
  let view: FleetView | undefined;
  let dashboard: DashboardServer | undefined;
  let resolveStopped!: (ms: number) => void;
  const stopped = new Promise<number>((resolve) => {
    resolveStopped = resolve;
  });
  let stopping: Promise<void> | undefined;
  const save = (): void => {
    if (stopping !== undefined && state.phase !== 'stopping') return;
    if (runner !== undefined) {
      state.processes = runner.records();
      state.gatewayUrls = runner.gatewayUrls;
    }
    writeState(o.statePath, state);
  };
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const t0 = Date.now();
      state.phase = 'stopping';
      save();
      await dashboard?.close();
      await view?.close();
      if (runner !== undefined) await runner.stop();
      else await store?.close();
      removeState(o.statePath);
      resolveStopped(Date.now() - t0);
    })();
    return stopping;
  };

  try {
    if (o.backend !== 'memory') {
      const t0 = Date.now();
      store = await startStore(o.backend, o.provider, { logDir, print: o.print });
      state.provider = store.provider;
      state.storeUrl = store.url;
      o.print(progressLine(o.backend, store.description, Date.now() - t0));
    }
    runner = new FleetRunner({
      fleet,
      backend: o.backend,
      gateways,
      store,
      logDir,
      events,
      onProgress: (s) => o.print(progressLine(s.name, s.detail, s.ms)),
      onChange: save,
    });
    await runner.start();
    view = new FleetView(runner, events, { backend: o.backend, provider: state.provider });
    view.start();
    const r = runner;
    dashboard = await startDashboardServer({
      runner: r,
      view,
      events,
      port: o.dashboardPort ?? fleet.dashboard.port,
      describe: () => ({ ...state, processes: undefined }),
      shutdown: () => void stop(),
    });
    state.controlUrl = dashboard.url;
    state.phase = 'running';
    save();
    events.add({ kind: 'action', target: 'sandbox', level: 'good', message: `fleet up in ${Date.now() - started} ms` });
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  return { state, events, stop, stopped };
}

/** The table and URLs `up` prints once everything runs. */
export function summary(state: SandboxState, statePath: string): string {
  return [
    '',
    processTable(state.processes),
    '',
    `${state.gatewayUrls.length > 1 ? 'gateways ' : 'gateway  '}  ${state.gatewayUrls.join('  ')}`,
    `dashboard  ${state.controlUrl}`,
    `state      ${statePath}`,
    `logs       ${state.logDir}`,
  ].join('\n');
}

/** One event as a foreground log line. */
export function eventLine(e: SandboxEvent): string {
  const t = new Date(e.at).toTimeString().slice(0, 8);
  return `${t}  ${e.target.padEnd(12)} ${e.message}`;
}

/** A live sandbox refuses a second `up`; a dead one's leftovers are cleaned. */
async function clearStaleState(statePath: string, print: (line: string) => void): Promise<void> {
  const old = readState(statePath);
  if (old === undefined) return;
  if (pidAlive(old.pid)) {
    throw new FleetgateError(
      'ERR_FG_INVALID_CONFIG',
      `a sandbox is already running (pid ${old.pid}, state ${statePath}); run gw-sandbox down first`,
    );
  }
  const pids = old.processes.flatMap((p) => (p.pid === undefined ? [] : [p.pid]));
  const left = pids.filter((p) => pidAlive(p));
  if (left.length > 0) {
    print(`note: cleaning up ${left.length} process(es) left by a sandbox that did not stop cleanly`);
    await killRecordedGroups(left);
  }
  removeState(statePath);
}
