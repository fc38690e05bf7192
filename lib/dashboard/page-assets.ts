/**
 * Serving the dashboard page and its two assets with the headers every dashboard response carries
 * (a strict Content-Security-Policy, no framing, no caching of live data).
 */
import type { ServerResponse } from 'node:http';
import { PAGE_CSP } from './page-html.js';

/** Headers of every page and asset response. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': PAGE_CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
});

/**
 * Writes one page or asset (no body for HEAD).
 * @example sendAsset(res, 'text/css; charset=utf-8', PAGE_STYLE, req.method === 'HEAD')
 */
export function sendAsset(res: ServerResponse, type: string, body: string, head = false): void {
  res.writeHead(200, { ...PAGE_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(head ? undefined : body);
}
