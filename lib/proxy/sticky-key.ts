/**
 * Reads a request's sticky-session key from a header or a cookie, without parsing every cookie.
 */
import type { IncomingMessage } from 'node:http';
import type { StickyOptions } from './proxy-options.js';

/**
 * The sticky key of a request: the header's value when configured and present, else the
 * cookie's value, else undefined (the sticky balancer then falls back to round-robin).
 * @example stickyKeyOf(req, { cookie: 'sid' }) // 'abc' for `Cookie: theme=dark; sid=abc`
 */
export function stickyKeyOf(req: IncomingMessage, sticky: StickyOptions): string | undefined {
  if (sticky.header !== undefined) {
    const v = req.headers[sticky.header.toLowerCase()];
    const value = Array.isArray(v) ? v[0] : v;
    if (value !== undefined && value !== '') return value;
  }
  if (sticky.cookie !== undefined) {
    const cookie = req.headers.cookie;
    if (cookie !== undefined) return cookieValue(cookie, sticky.cookie);
  }
  return undefined;
}

/** The value of cookie `name` in a `Cookie` header, or undefined. */
export function cookieValue(header: string, name: string): string | undefined {
  let from = 0;
  while (from < header.length) {
    const at = header.indexOf(name, from);
    if (at < 0) return undefined;
    const end = at + name.length;
    const startsPair = at === 0 || header.charCodeAt(at - 1) === 0x3b || header.charCodeAt(at - 1) === 0x20;
    if (startsPair && header.charCodeAt(end) === 0x3d) {
      const semi = header.indexOf(';', end + 1);
      const value = (semi < 0 ? header.slice(end + 1) : header.slice(end + 1, semi)).trim();
      return value === '' ? undefined : value;
    }
    from = end;
  }
  return undefined;
}
