/**
 * `gw-sandbox up`: starts the fleet and stays in the foreground (Ctrl-C stops everything), or
 * with `--detach` hands it to a background process and returns once it runs.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { FleetgateError } from '../../lib/errors.js';
import { PROVIDER_CHOICES, type ProviderChoice } from '../infra/store.js';
import { DEFAULT_FLEET_FILE, nodeEntry, SANDBOX_ENTRY } from '../paths.js';
import type { SandboxSession } from '../session.js';
import { pidAlive, readState, SANDBOX_BACKENDS, type SandboxBackend } from '../state-file.js';
import { resolveStatePath } from './common.js';

interface UpOptions {
  backend: SandboxBackend;
  fleet: string | undefined;
  gateways: number | undefined;
  provider: ProviderChoice;
  detach: boolean;
  dashboardPort: number | undefined;
  daemon: boolean;
}

/** Messages from the background sandbox to the `up --detach` that started it. */
type DaemonMessage =
  | { type: 'line'; line: string }
  | { type: 'ready'; summary: string }
  | { type: 'failed'; message: string };

/** The `up` command. */
export function upCommand(): Command {
  return new Command('up')
    .description('start the fleet: store (unless memory), gateways, fake services and the dashboard')
    .addOption(new Option('--backend <backend>', 'registry backend').choices(SANDBOX_BACKENDS).default('memory'))
    .option('--fleet <file>', `fleet file (default: the packaged ${'fixtures/fleet.yaml'})`)
    .option('--gateways <n>', 'number of gateway processes (memory: always 1)', positiveInt)
    .addOption(new Option('--provider <provider>', 'how the store runs').choices(PROVIDER_CHOICES).default('auto'))
    .option('--detach', 'run in the background and return once the fleet is up (stop it with: gw-sandbox down)', false)
    .option('--dashboard-port <port>', 'dashboard port (default: the fleet file, else a free port)', portNumber)
    .addOption(new Option('--daemon').hideHelp().default(false))
    .action(async (opts: UpOptions, cmd: Command) => {
      const statePath = resolveStatePath(cmd);
      const fleetFile = opts.fleet === undefined ? DEFAULT_FLEET_FILE : resolve(opts.fleet);
      if (opts.detach && !opts.daemon) return detach(opts, fleetFile, statePath);
      if (opts.daemon) return runDaemon(opts, fleetFile, statePath);
      return runForeground(opts, fleetFile, statePath);
    });
}

async function runForeground(opts: UpOptions, fleetFile: string, statePath: string): Promise<void> {
  const { eventLine, startSession, summary } = await import('../session.js');
  console.log(`gw-sandbox: backend ${opts.backend}, fleet ${fleetFile}`);
  const session = await startSession(sessionOptions(opts, fleetFile, statePath, (l) => console.log(l)));
  console.log(summary(session.state, statePath));
  console.log('\nRunning. Ctrl-C stops everything. Events:');
  session.events.on('event', (e) => console.log(eventLine(e)));
  await untilStopped(session, (l) => console.log(l));
}

async function runDaemon(opts: UpOptions, fleetFile: string, statePath: string): Promise<void> {
  const { eventLine, startSession, summary } = await import('../session.js');
  const tell = (m: DaemonMessage): void => {
    if (process.send !== undefined && process.connected) process.send(m);
  };
  const print = (line: string): void => {
    console.log(line);
    tell({ type: 'line', line });
  };
  let session: SandboxSession;
  try {
    session = await startSession(sessionOptions(opts, fleetFile, statePath, print));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    console.error(message);
    tell({ type: 'failed', message });
    process.exitCode = 1;
    return;
  }
  const text = summary(session.state, statePath);
  console.log(text);
  tell({ type: 'ready', summary: text });
  if (process.connected) process.disconnect();
  session.events.on('event', (e) => console.log(eventLine(e)));
  await untilStopped(session, (l) => console.log(l));
}

/** Waits for a signal or `POST /api/shutdown`, then stops the session. */
async function untilStopped(session: SandboxSession, print: (line: string) => void): Promise<void> {
  let signalled = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signalled++;
    if (signalled > 1) {
      print(`${signal} again: still stopping (children get SIGKILL after their grace period)`);
      return;
    }
    print(`\n${signal}: stopping the fleet…`);
    void session.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  const ms = await session.stopped;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onSignal);
  print(`✓ stopped everything in ${ms} ms`);
}

/** Starts a background sandbox and relays its progress until it runs. */
async function detach(opts: UpOptions, fleetFile: string, statePath: string): Promise<void> {
  const existing = readState(statePath);
  if (existing !== undefined && pidAlive(existing.pid)) {
    throw new FleetgateError(
      'ERR_FG_INVALID_CONFIG',
      `a sandbox is already running (pid ${existing.pid}, state ${statePath}); run gw-sandbox down first`,
    );
  }
  mkdirSync(dirname(statePath), { recursive: true });
  const logFile = join(dirname(statePath), 'sandbox.log');
  const fd = openSync(logFile, 'w');
  const entry = nodeEntry(SANDBOX_ENTRY);
  const args = [
    ...entry.args,
    'up',
    '--daemon',
    '--backend',
    opts.backend,
    '--fleet',
    fleetFile,
    '--provider',
    opts.provider,
  ];
  if (opts.gateways !== undefined) args.push('--gateways', String(opts.gateways));
  if (opts.dashboardPort !== undefined) args.push('--dashboard-port', String(opts.dashboardPort));
  console.log(`gw-sandbox: backend ${opts.backend}, fleet ${fleetFile} (detached; log ${logFile})`);
  const child = spawn(entry.command, args, {
    detached: true,
    stdio: ['ignore', fd, fd, 'ipc'],
    env: { ...process.env, GW_SANDBOX_STATE: statePath },
  });
  const outcome = await new Promise<{ ok: boolean; text: string }>((done) => {
    child.on('message', (raw) => {
      const m = raw as DaemonMessage;
      if (m.type === 'line') console.log(m.line);
      else if (m.type === 'ready') done({ ok: true, text: m.summary });
      else done({ ok: false, text: m.message });
    });
    child.once('exit', (code, signal) =>
      done({
        ok: false,
        text: `the background sandbox exited (${signal ?? `code ${code}`}) before it was up; see ${logFile}`,
      }),
    );
  });
  child.removeAllListeners();
  if (child.connected) child.disconnect();
  child.unref();
  if (!outcome.ok) throw new FleetgateError('ERR_FG_INVALID_CONFIG', outcome.text);
  console.log(outcome.text);
  console.log(`\nRunning in the background (pid ${child.pid}). Stop it with: gw-sandbox down`);
}

function sessionOptions(opts: UpOptions, fleetFile: string, statePath: string, print: (line: string) => void) {
  return {
    backend: opts.backend,
    fleetFile,
    gateways: opts.gateways,
    provider: opts.provider,
    statePath,
    dashboardPort: opts.dashboardPort,
    print,
  };
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 9) throw new InvalidArgumentError('expected an integer from 1 to 9');
  return n;
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port from 0 to 65535');
  return n;
}
