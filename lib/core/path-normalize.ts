/**
 * Request-path normalisation, done once before route matching so that `..`, `%2e%2e` and
 * friends can never reach a route the services did not register (path traversal).
 */

/** A normalised request target. */
export interface NormalizedPath {
  /** The path: dot segments resolved, `//` collapsed, unreserved percent-escapes decoded. */
  path: string;
  /** The query string verbatim, with its leading `?`; `''` when there is none. */
  query: string;
}

/** Why a request target was refused; the proxy answers 400. */
export interface PathFailure {
  error: 'bad-path';
  /** Human-readable reason, e.g. `encoded slash`. */
  reason: string;
}

/** The result of {@link normalizePath}. */
export type NormalizeResult = NormalizedPath | PathFailure;

/** True when {@link normalizePath} refused the target. */
export function isPathFailure(result: NormalizeResult): result is PathFailure {
  return (result as PathFailure).error === 'bad-path';
}

const CH_PERCENT = 0x25;
const CH_SLASH = 0x2f;
const CH_DOT = 0x2e;
const CH_BACKSLASH = 0x5c;
const CH_QUESTION = 0x3f;
const CH_HASH = 0x23;

/**
 * Splits a request target into a normalised path and the verbatim query string.
 *
 * - Accepts origin form (`/a/b?x`) and absolute form (`http://host/a/b?x`); anything else fails.
 * - Decodes percent-escapes of unreserved characters (`A-Z a-z 0-9 - . _ ~`), so `%2e` is a dot;
 *   other escapes stay encoded with upper-case hex.
 * - Refuses encoded slashes and backslashes (`%2F`, `%5C`), raw backslashes, NUL and other
 *   control characters, and malformed escapes: an upstream may decode them into separators.
 * - Resolves `.` and `..` (never above the root) and collapses empty segments; a trailing slash is kept.
 *   Refuses `..;x` and `.;x`, which servlet containers read as dot segments.
 * - Drops a `#fragment` (never sent by browsers; stripped so it cannot smuggle a path).
 *
 * The common path (no `%`, no dot segment, no `//`) is returned without copying.
 * @example
 * normalizePath('/api/x/%2e%2e/admin?q=1') // { path: '/admin', query: '?q=1' }
 * normalizePath('/a%2Fb') // { error: 'bad-path', reason: 'encoded slash or backslash' }
 */
export function normalizePath(rawUrl: string): NormalizeResult {
  let start = 0;
  if (rawUrl.charCodeAt(0) !== CH_SLASH) {
    start = absoluteFormPathStart(rawUrl);
    if (start < 0) return fail('request target is not a path');
  }
  let end = rawUrl.length;
  let queryStart = -1;
  let needsWork = false;
  let prev = 0;
  for (let i = start; i < end; i++) {
    const c = rawUrl.charCodeAt(i);
    if (c === CH_QUESTION) {
      queryStart = i;
      break;
    }
    if (c === CH_HASH) {
      end = i;
      break;
    }
    if (c < 0x20 || c === 0x7f) return fail('control character');
    if (c === CH_BACKSLASH) return fail('backslash');
    if (c === CH_PERCENT || (prev === CH_SLASH && (c === CH_SLASH || c === CH_DOT))) needsWork = true;
    prev = c;
  }
  let query = '';
  if (queryStart >= 0) {
    const hash = rawUrl.indexOf('#', queryStart);
    query = hash < 0 ? rawUrl.slice(queryStart) : rawUrl.slice(queryStart, hash);
    end = queryStart;
  }
  const rawPath = start === 0 && end === rawUrl.length ? rawUrl : rawUrl.slice(start, end);
  if (rawPath === '') return { path: '/', query };
  if (!needsWork) return { path: rawPath, query };
  return slowPath(rawPath, query);
}

function slowPath(rawPath: string, query: string): NormalizeResult {
  const segments = rawPath.split('/');
  const out: string[] = [];
  // segments[0] is the empty string before the leading slash.
  for (let i = 1; i < segments.length; i++) {
    const decoded = decodeUnreserved(segments[i]!);
    if (decoded === undefined) return fail('malformed percent-escape');
    if (decoded === null) return fail('encoded slash, backslash or NUL');
    const last = i === segments.length - 1;
    if (decoded === '' || decoded === '.') {
      if (last) out.push('');
      continue;
    }
    // Servlet containers read "..;x" as "..": refuse it rather than let the upstream climb.
    if (decoded.startsWith('..;') || decoded.startsWith('.;')) return fail('dot segment with parameters');
    if (decoded === '..') {
      out.pop();
      if (last) out.push('');
      continue;
    }
    out.push(decoded);
  }
  // A trailing '' entry keeps the trailing slash; drop it when it is all that is left.
  if (out.length === 1 && out[0] === '') return { path: '/', query };
  return { path: `/${out.join('/')}`, query };
}

/**
 * Decodes escapes of unreserved characters in one segment. `undefined` for a malformed escape,
 * `null` for a forbidden one (`/`, `\`, NUL, control characters).
 */
function decodeUnreserved(segment: string): string | undefined | null {
  if (segment.indexOf('%') < 0) return segment;
  let out = '';
  let from = 0;
  for (let i = segment.indexOf('%'); i >= 0; i = segment.indexOf('%', from)) {
    const hi = hexValue(segment.charCodeAt(i + 1));
    const lo = hexValue(segment.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return undefined;
    const code = hi * 16 + lo;
    if (code === CH_SLASH || code === CH_BACKSLASH || code < 0x20 || code === 0x7f) return null;
    out += segment.slice(from, i);
    out += isUnreserved(code) ? String.fromCharCode(code) : `%${HEX[hi]}${HEX[lo]}`;
    from = i + 3;
  }
  return out + segment.slice(from);
}

const HEX = '0123456789ABCDEF';

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

function isUnreserved(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === CH_DOT ||
    c === 0x5f ||
    c === 0x7e
  );
}

/** Index where the path of an absolute-form target starts, or -1 when it is not one. */
function absoluteFormPathStart(raw: string): number {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(raw);
  if (scheme === null) return -1;
  const authorityStart = scheme[0].length;
  for (let i = authorityStart; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    // With no path (`http://h?x`) the path is empty and starts where the query does.
    if (c === CH_SLASH || c === CH_QUESTION || c === CH_HASH) return i;
  }
  return raw.length;
}

function fail(reason: string): PathFailure {
  return { error: 'bad-path', reason };
}
