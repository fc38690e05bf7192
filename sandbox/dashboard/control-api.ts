/**
 * The control API of a running sandbox (`POST /api/...`), hosted by the dashboard server: the
 * one way the CLI commands, the drills and the dashboard buttons act on the fleet, so the
 * supervisor stays the single owner of its children.
 *
 * | endpoint | body | does |
 * | --- | --- | --- |
 * | `POST /api/crash` | `{ target, hold?, all? }` | kill -9 an instance / one of a service / a gateway |
 * | `POST /api/restart` | `{ target }` | restart instance(s), gateway(s) or `store` |
 * | `POST /api/scale` | `{ service, count }` | add or remove instances |
 * | `POST /api/store` | `{ action: 'stop' \| 'start' \| 'flush' }` | store outage, recovery, data loss |
 * | `POST /api/fake` | `{ instance, action }` | `hang`, `unhang`, `fail-health`, `heal` on a fake service |
 * | `POST /api/event` | `{ target, message, level? }` | record an event (drills) |
 * | `POST /api/shutdown` | — | stop everything (`down`) |
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FleetgateError, isFleetgateError } from '../../lib/errors.js';
import type { EventLog, SandboxEvent } from '../event-log.js';
import type { FleetRunner } from '../fleet-runner.js';

/** Header every control request carries; browsers cannot send it cross-site without a preflight we never grant. */
export const CONTROL_HEADER = 'x-gw-sandbox';

/** What the control API needs. */
export interface ControlApiContext {
  runner: FleetRunner;
  events: EventLog;
  /** Stops the sandbox (answers first, then shuts down). */
  shutdown: () => void;
}

const FAKE_ACTIONS = new Set(['hang', 'unhang', 'fail-health', 'heal']);

/**
 * Handles one `POST /api/<action>`; answers JSON `{ ok: true, ... }` or a FleetgateError body.
 * @example await handleControl('crash', req, res, ctx)
 */
export async function handleControl(action: string, req: IncomingMessage, res: ServerResponse, ctx: ControlApiContext) {
  try {
    if (req.headers[CONTROL_HEADER] !== '1') {
      throw new FleetgateError('ERR_FG_FORBIDDEN', `control requests need the header ${CONTROL_HEADER}: 1`);
    }
    const body = await readBody(req);
    const t0 = Date.now();
    const result = await run(action, body, ctx);
    send(res, 200, { ok: true, ms: Date.now() - t0, ...result });
  } catch (err) {
    const e = isFleetgateError(err)
      ? err
      : new FleetgateError('ERR_FG_INVALID_CONFIG', err instanceof Error ? err.message : String(err), { status: 500 });
    send(res, e.status, e.toJSON());
  }
}

async function run(
  action: string,
  body: Record<string, unknown>,
  ctx: ControlApiContext,
): Promise<Record<string, unknown>> {
  const { runner, events } = ctx;
  switch (action) {
    case 'crash':
      return { crashed: await runner.crash(str(body, 'target'), { hold: body.hold === true, all: body.all === true }) };
    case 'restart':
      return { restarted: await runner.restart(str(body, 'target')) };
    case 'scale':
      return runner.scale(str(body, 'service'), Number(body.count));
    case 'store': {
      const what = str(body, 'action');
      if (what === 'stop') await runner.stopStore();
      else if (what === 'start') await runner.startStore();
      else if (what === 'flush') await runner.flushStore();
      else throw new FleetgateError('ERR_FG_INVALID_BODY', `store action must be stop, start or flush, got ${what}`);
      return { store: what };
    }
    case 'fake': {
      const instance = str(body, 'instance');
      const what = str(body, 'action');
      if (!FAKE_ACTIONS.has(what))
        throw new FleetgateError('ERR_FG_INVALID_BODY', `fake action must be one of ${[...FAKE_ACTIONS].join(', ')}`);
      const rec = runner.records().find((r) => r.role === 'service' && r.name === instance);
      if (rec?.url === undefined || rec.status !== 'running')
        throw new FleetgateError('ERR_FG_NOT_FOUND', `instance ${instance} is not running`);
      const res = await fetch(`${rec.url}/_fake/${what}`, { method: 'POST', signal: AbortSignal.timeout(2000) });
      events.add({
        kind: 'action',
        target: instance,
        level: what === 'heal' || what === 'unhang' ? 'good' : 'warn',
        message: what,
      });
      return { instance, action: what, status: res.status };
    }
    case 'event': {
      const level = (['info', 'good', 'warn', 'bad'] as const).find((l) => l === body.level) ?? 'info';
      const e: Omit<SandboxEvent, 'at'> = {
        kind: 'drill',
        target: str(body, 'target'),
        message: str(body, 'message'),
        level,
      };
      events.add(e);
      return {};
    }
    case 'shutdown':
      setImmediate(ctx.shutdown);
      return { stopping: true };
    default:
      throw new FleetgateError('ERR_FG_NOT_FOUND', `no control action ${action}`);
  }
}

function str(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  if (typeof v !== 'string' || v === '') throw new FleetgateError('ERR_FG_INVALID_BODY', `"${key}" is required`);
  return v;
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 65_536) throw new FleetgateError('ERR_FG_BODY_TOO_LARGE', 'control request body too large');
  }
  if (text.trim() === '') return {};
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    throw new FleetgateError('ERR_FG_MALFORMED_JSON', 'control request body is not JSON');
  }
}

/** Writes a JSON answer. */
export function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(text);
}
