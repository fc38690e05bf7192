/**
 * The HTTP server of a running sandbox: the dashboard page, its live feed (`GET /api/events`,
 * server-sent events carrying a {@link FleetSnapshot} whenever it changes), `GET /api/state`,
 * and the control API (`POST /api/*`). Loopback only.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventLog } from '../event-log.js';
import type { FleetRunner } from '../fleet-runner.js';
import { CONTROL_HEADER, handleControl, send } from './control-api.js';
import type { FleetSnapshot, FleetView } from './fleet-view.js';
import { PAGE_HTML } from './page-html.js';
import { PAGE_SCRIPT } from './page-script.js';
import { PAGE_STYLE } from './page-style.js';

/** Options for {@link startDashboardServer}. */
export interface DashboardServerOptions {
  runner: FleetRunner;
  view: FleetView;
  events: EventLog;
  /** @default 0 (a free port) */
  port: number;
  /** Extra fields for `GET /api/state` (backend, gateway URLs, …). */
  describe: () => Record<string, unknown>;
  /** Called by `POST /api/shutdown`. */
  shutdown: () => void;
}

/** A listening dashboard server. */
export interface DashboardServer extends AsyncDisposable {
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the server on 127.0.0.1.
 * @example const dash = await startDashboardServer({ runner, view, events, port: 0, describe, shutdown }); console.log(dash.url);
 */
export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const { view, runner, events } = options;
  const streams = new Set<ServerResponse>();
  let last = '';

  const onSnapshot = (snapshot: FleetSnapshot): void => {
    const data = JSON.stringify(snapshot);
    // The poll runs every 500 ms; only changes are sent (timestamps aside).
    const key = data.replace(/"at":\d+,/, '');
    if (key === last) return;
    last = key;
    for (const res of streams) res.write(`event: snapshot\ndata: ${data}\n\n`);
  };
  view.on('snapshot', onSnapshot);
  const keepAlive = setInterval(() => {
    for (const res of streams) res.write(': keep-alive\n\n');
  }, 15_000);
  keepAlive.unref();

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const path = url.pathname;
    if (req.method === 'POST' && path.startsWith('/api/')) {
      void handleControl(path.slice('/api/'.length), req, res, { runner, events, shutdown: options.shutdown });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method not allowed' });
    switch (path) {
      case '/':
      case '/index.html':
        return asset(res, 'text/html; charset=utf-8', PAGE_HTML);
      case '/app.js':
        return asset(res, 'text/javascript; charset=utf-8', PAGE_SCRIPT);
      case '/app.css':
        return asset(res, 'text/css; charset=utf-8', PAGE_STYLE);
      case '/api/state':
        return send(res, 200, { ...options.describe(), processes: runner.records(), snapshot: view.snapshot });
      case '/api/events': {
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-store',
          connection: 'keep-alive',
        });
        res.write(`retry: 1000\nevent: snapshot\ndata: ${JSON.stringify(view.snapshot)}\n\n`);
        streams.add(res);
        req.once('close', () => streams.delete(res));
        return;
      }
      default:
        return send(res, 404, { error: `nothing at ${path}` });
    }
  });
  // Event-stream sockets would otherwise hold close() forever.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      view.off('snapshot', onSnapshot);
      clearInterval(keepAlive);
      for (const res of streams) res.end();
      streams.clear();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };
  return { url, close, [Symbol.asyncDispose]: close };
}

function asset(res: ServerResponse, type: string, body: string): void {
  res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' });
  res.end(body);
}

export { CONTROL_HEADER };
