/**
 * A message-routing service (ws-service-child.ts) as a child process whose events a test reads:
 * hooks (`open`, `close`), monitor answers and the end of its loop, one JSON line each.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { FLEETGATE_ROOT } from './gateway-process.js';

/** What the child is told (the `FLEETGATE_E2E_WS_SERVICE` JSON). */
export interface WsServiceChildConfig {
  /** Gateway base URL it registers with. */
  gateway: string;
  service: string;
  /** Its instance id, named in its replies and events. */
  label: string;
  /** Pause between two monitor requests to the client. */
  monitorIntervalMs: number;
}

/** One event line of the child. */
export interface WsServiceEvent {
  label: string;
  ev: 'ready' | 'open' | 'close' | 'answer' | 'monitor-end';
  conn?: string;
  repinned?: boolean;
  code?: number | string;
  durationMs?: number;
  user?: string;
  answers?: number;
  metrics?: unknown;
  url?: string;
}

/** A running service child. */
export interface WsServiceProcess extends AsyncDisposable {
  readonly label: string;
  /** Every event so far. */
  readonly events: WsServiceEvent[];
  /** Events of one client connection. */
  eventsOf(conn: string): WsServiceEvent[];
  /** Resolves with the first event matching `pred` (already seen or to come); rejects after `ms`. */
  waitForEvent(pred: (e: WsServiceEvent) => boolean, what: string, ms?: number): Promise<WsServiceEvent>;
  output(): string;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
}

const ENTRY = 'e2e/support/ws-service-child.ts';

/**
 * Spawns the chat/monitor service and waits until it is registered.
 * @example await using a = await startWsService({ gateway: gw.url, service: 'chat', label: 'chat-a', monitorIntervalMs: 200 });
 */
export async function startWsService(config: WsServiceChildConfig, timeoutMs = 30_000): Promise<WsServiceProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
    cwd: FLEETGATE_ROOT,
    env: { ...process.env, FLEETGATE_E2E_WS_SERVICE: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      process.off('exit', killOnExit);
      resolve();
    }),
  );
  const events: WsServiceEvent[] = [];
  const listeners = new Set<() => void>();
  let out = '';
  let pending = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    out += s;
    pending += s;
    let nl = pending.indexOf('\n');
    while (nl !== -1) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.startsWith('{')) events.push(JSON.parse(line) as WsServiceEvent);
      nl = pending.indexOf('\n');
    }
    for (const l of [...listeners]) l();
  });
  const waitForEvent = (pred: (e: WsServiceEvent) => boolean, what: string, ms = 10_000): Promise<WsServiceEvent> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = events.find(pred);
        if (hit === undefined) return false;
        listeners.delete(check);
        clearTimeout(timer);
        resolve(hit);
        return true;
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`${config.label}: no ${what} within ${ms} ms\n${out}`));
      }, ms);
      listeners.add(check);
      check();
    });
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  try {
    await Promise.race([
      waitForEvent((e) => e.ev === 'ready', 'ready line', timeoutMs),
      exited.then(() => {
        throw new Error(`${config.label} exited before registering:\n${out}`);
      }),
    ]);
  } catch (err) {
    await kill();
    throw err;
  }
  return {
    label: config.label,
    events,
    eventsOf: (conn) => events.filter((e) => e.conn === conn),
    waitForEvent,
    output: () => out,
    kill,
    [Symbol.asyncDispose]: kill,
  };
}
