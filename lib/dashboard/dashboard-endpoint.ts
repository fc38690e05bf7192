/**
 * The dashboard's HTTP surface under `/_fleetgate/` (behind the operator guard, like every
 * `/_fleetgate/**` path):
 *
 * | request | answer |
 * | --- | --- |
 * | `GET /_fleetgate/` (or `/_fleetgate`: the gateway drops the trailing slash of its own paths) | the page |
 * | `GET /_fleetgate/dashboard.js`, `/_fleetgate/dashboard.css` | its script and stylesheet |
 * | `GET /_fleetgate/api/snapshot` | the current {@link DashboardSnapshot} as JSON |
 * | `GET /_fleetgate/api/stream` | server-sent `snapshot` events (once a second and on registry events) |
 * | `GET /_fleetgate/api/whoami` | `{"admin": true\|false}`: does this request hold the admin token |
 * | `POST /_fleetgate/api/drain` | drain/undrain an instance, admins only (lib/dashboard/drain-endpoint.ts) |
 *
 * Other `/_fleetgate/**` paths (`/_fleetgate/explain`) pass to the next middleware.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError, sendJson } from '../core/send-error.js';
import { FleetgateError } from '../errors.js';
import type { AdminAccess } from '../http/admin-access.js';
import { type Middleware, type Next, pathOf } from '../http/compose.js';
import type { RegistryApi } from '../registry/registry-api.js';
import { drainEndpoint } from './drain-endpoint.js';
import type { EventStream } from './event-stream.js';
import { PAGE_HEADERS, sendAsset } from './page-assets.js';
import { dashboardPageHtml, PAGE_SCRIPT_FILE, PAGE_STYLE_FILE } from './page-html.js';
import type { DashboardSnapshot } from './page-model.js';
import { PAGE_SCRIPT } from './page-script.js';
import { PAGE_STYLE } from './page-style.js';

/** What {@link dashboardEndpoint} serves from. */
export interface DashboardEndpointOptions {
  registry: RegistryApi;
  admin: Pick<AdminAccess, 'holdsToken' | 'clientAddress' | 'logger'>;
  stream: EventStream;
  snapshot: () => DashboardSnapshot;
  /** Tab and header title. @default 'fleetgate' */
  title?: string;
}

const ROOT = '/_fleetgate';
const BASE = `${ROOT}/`;

/**
 * The dashboard middleware.
 * @example compose([adminGuard(admin), dashboardEndpoint({ registry, admin, stream, snapshot }), explainEndpoint(...)])
 */
export function dashboardEndpoint(o: DashboardEndpointOptions): Middleware {
  const html = dashboardPageHtml({
    title: o.title ?? 'fleetgate',
    base: BASE,
    stream: `${BASE}api/stream`,
    actions: 'drain',
  });
  const drain = drainEndpoint({ registry: o.registry, admin: o.admin, path: `${BASE}api/drain` });
  const gets: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
    [ROOT]: (req, res) => sendAsset(res, 'text/html; charset=utf-8', html, req.method === 'HEAD'),
    [BASE]: (req, res) => sendAsset(res, 'text/html; charset=utf-8', html, req.method === 'HEAD'),
    [`${BASE}${PAGE_SCRIPT_FILE}`]: (req, res) =>
      sendAsset(res, 'text/javascript; charset=utf-8', PAGE_SCRIPT, req.method === 'HEAD'),
    [`${BASE}${PAGE_STYLE_FILE}`]: (req, res) =>
      sendAsset(res, 'text/css; charset=utf-8', PAGE_STYLE, req.method === 'HEAD'),
    [`${BASE}api/snapshot`]: (_req, res) => sendJson(res, 200, o.snapshot()),
    [`${BASE}api/stream`]: (req, res) => o.stream.open(req, res),
    [`${BASE}api/whoami`]: (req, res) => sendJson(res, 200, { admin: o.admin.holdsToken(req) }),
  };
  return (req: IncomingMessage, res: ServerResponse, next: Next) => {
    const path = pathOf(req.url);
    if (path === `${BASE}api/drain`) return drain(req, res, next);
    const get = Object.hasOwn(gets, path) ? gets[path] : undefined;
    if (get === undefined) return next();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      for (const [k, v] of Object.entries(PAGE_HEADERS)) res.setHeader(k, v);
      sendError(res, new FleetgateError('ERR_FG_METHOD_NOT_ALLOWED', `${path} answers GET only`));
      return;
    }
    get(req, res);
  };
}
