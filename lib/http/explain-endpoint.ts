/**
 * `GET /_fleetgate/explain?method=GET&path=/api/x`: how the gateway would route a request —
 * the matched route, the candidate instances, which were excluded and why (DESIGN.md §3).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError, sendJson } from '../core/send-error.js';
import { FleetgateError } from '../errors.js';
import type { ExplainResult } from '../routing/explain.js';
import type { Middleware, Next } from './compose.js';
import { pathOf } from './compose.js';

/** Options for {@link explainEndpoint}. */
export interface ExplainEndpointOptions {
  /** Computes the explanation; `discoveryProxy().explain` fits. Required. */
  explain: (method: string, path: string) => ExplainResult;
  /** @default '/_fleetgate/explain' */
  path: string;
}

/**
 * The explain endpoint middleware. Like the registration API it is an operator's tool: mount it
 * behind the same network guard.
 * @example compose([explainEndpoint({ explain: proxy.explain }), proxy])
 */
export function explainEndpoint(
  options: Partial<ExplainEndpointOptions> & Pick<ExplainEndpointOptions, 'explain'>,
): Middleware {
  const path = options.path ?? '/_fleetgate/explain';
  return (req: IncomingMessage, res: ServerResponse, next: Next) => {
    if (pathOf(req.url) !== path || req.method !== 'GET') return next();
    const query = new URL(req.url ?? '/', 'http://gateway').searchParams;
    const target = query.get('path');
    if (target === null || !target.startsWith('/')) {
      sendError(res, new FleetgateError('ERR_FG_INVALID_BODY', 'query parameter "path" must be an absolute path'));
      return;
    }
    try {
      sendJson(res, 200, options.explain((query.get('method') ?? 'GET').toUpperCase(), target));
    } catch (err) {
      sendError(res, err);
    }
  };
}
