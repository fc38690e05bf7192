/**
 * The HTTP server of a running sandbox: the dashboard page (the gateway's own page,
 * lib/dashboard/, with the sandbox's Crash/Restart buttons), its live feed (`GET /api/events`,
 * server-sent events carrying the page's snapshot whenever it changes), `GET /api/state` (the
 * {@link FleetSnapshot} the CLI reads), and the control API (`POST /api/*`). Loopback only.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendAsset } from '../../lib/dashboard/page-assets.js';
import { dashboardPageHtml, PAGE_SCRIPT_FILE, PAGE_STYLE_FILE } from '../../lib/dashboard/page-html.js';
import { PAGE_SCRIPT } from '../../lib/dashboard/page-script.js';
import { PAGE_STYLE } from '../../lib/dashboard/page-style.js';
import type { EventLog } from '../event-log.js';
import type { FleetRunner } from '../fleet-runner.js';
import { CONTROL_HEADER, handleControl, send } from './control-api.js';
import type { FleetSnapshot, FleetView } from './fleet-view.js';
import { toPageSnapshot } from './page-snapshot.js';

const PAGE_HTML = dashboardPageHtml({ title: 'gw-sandbox', base: '/', stream: '/api/events', actions: 'sandbox' });

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

  const page = (snapshot: FleetSnapshot): string => JSON.stringify(toPageSnapshot(snapshot, view.intervalMs));
  const onSnapshot = (snapshot: FleetSnapshot): void => {
    const data = page(snapshot);
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
        return sendAsset(res, 'text/html; charset=utf-8', PAGE_HTML, req.method === 'HEAD');
      case `/${PAGE_SCRIPT_FILE}`:
        return sendAsset(res, 'text/javascript; charset=utf-8', PAGE_SCRIPT, req.method === 'HEAD');
      case `/${PAGE_STYLE_FILE}`:
        return sendAsset(res, 'text/css; charset=utf-8', PAGE_STYLE, req.method === 'HEAD');
      case '/api/state':
        return send(res, 200, { ...options.describe(), processes: runner.records(), snapshot: view.snapshot });
      case '/api/events': {
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-store',
          connection: 'keep-alive',
        });
        res.write(`retry: 1000\nevent: snapshot\ndata: ${page(view.snapshot)}\n\n`);
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

export { CONTROL_HEADER };
