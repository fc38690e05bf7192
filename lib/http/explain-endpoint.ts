/**
 * `GET /_fleetgate/explain?method=GET&path=/api/x`: how the gateway would route a request —
 * the matched route, the candidate instances, which were excluded and why (README "Registration API").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError, sendJson } from '../core/send-error.js';
import { FleetgateError } from '../errors.js';
import type { ExplainResult } from '../routing/explain.js';
import type { MessageExplainResult } from '../websocket/message-explain.js';
import type { Middleware, Next } from './compose.js';
import { pathOf } from './compose.js';

/** Options for {@link explainEndpoint}. */
export interface ExplainEndpointOptions {
  /** Computes the explanation; `discoveryProxy().explain` fits. Required. */
  explain: (method: string, path: string) => ExplainResult;
  /**
   * Explains a WebSocket message path, asked as `?ws=1&path=/chat/join`; `websocketGateway().explainMessage`
   * fits. Without it such questions get 404 `ERR_FG_NOT_FOUND`. @default undefined
   */
  explainMessage: ((path: string) => MessageExplainResult) | undefined;
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
    const ws = query.get('ws');
    try {
      if (ws === '1' || ws === 'true') {
        if (options.explainMessage === undefined) {
          throw new FleetgateError('ERR_FG_NOT_FOUND', 'WebSocket message routing is off on this gateway');
        }
        sendJson(res, 200, options.explainMessage(target));
        return;
      }
      sendJson(res, 200, options.explain((query.get('method') ?? 'GET').toUpperCase(), target));
    } catch (err) {
      sendError(res, err);
    }
  };
}
