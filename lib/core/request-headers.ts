/**
 * Editing an incoming request's headers before it is forwarded. The proxy copies
 * `req.rawHeaders` (lib/upstream/proxy-headers.ts) and frameworks read `req.headers`, so a
 * middleware that removes a credential or adds an identity header must change both, or the two
 * views disagree and the upstream sees what the gateway meant to hide.
 */
import type { IncomingMessage } from 'node:http';

/**
 * Removes every header called `name` (any case) from both `req.headers` and `req.rawHeaders`.
 * @returns whether one was present.
 * @example removeRequestHeader(req, 'x-api-key');
 */
export function removeRequestHeader(req: IncomingMessage, name: string): boolean {
  const lower = name.toLowerCase();
  const present = req.headers[lower] !== undefined;
  if (present) delete req.headers[lower];
  const raw = req.rawHeaders;
  let found = false;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === lower.length && raw[i]!.toLowerCase() === lower) {
      found = true;
      break;
    }
  }
  if (found) {
    const kept: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i]!.toLowerCase() !== lower) kept.push(raw[i]!, raw[i + 1]!);
    }
    req.rawHeaders = kept;
  }
  return present || found;
}

/**
 * Sets header `name` to `value` in both views, replacing any value the client sent.
 * @example setRequestHeader(req, 'x-api-key-name', 'mobile-app');
 */
export function setRequestHeader(req: IncomingMessage, name: string, value: string): void {
  const lower = name.toLowerCase();
  removeRequestHeader(req, lower);
  req.headers[lower] = value;
  req.rawHeaders.push(lower, value);
}

/**
 * The single value of header `name`, or `undefined` when absent. A repeated header (which Node
 * joins for most names) is returned as received, so callers that need exactly one can refuse it.
 */
export function requestHeader(req: IncomingMessage, name: string): string | string[] | undefined {
  return req.headers[name.toLowerCase()];
}
