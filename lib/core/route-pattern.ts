/**
 * The route grammar, once for every feature (routing, registry conflicts, rate limits,
 * WebSocket message routes): `*` one segment, `**` the rest (zero or more segments, last only),
 * `:name` a named segment, anything else a literal compared with the NORMALISED request path
 * (lib/core/path-normalize.ts). Precedence, segment by segment from the left:
 * static > `:param` > `*` > `**`. See docs/architecture.md.
 */
import { type ErrorCode, FleetgateError } from '../errors.js';
import { isPathFailure, normalizePath } from './path-normalize.js';

/** One parsed segment of a pattern. */
export type PatternSegment =
  | { readonly kind: 'static'; readonly value: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'star' }
  | { readonly kind: 'globstar' };

/** A parsed, validated pattern. */
export interface CompiledPattern {
  /** The pattern as written. */
  readonly pattern: string;
  readonly segments: readonly PatternSegment[];
  /** The canonical form: literals normalised, parameter names and empty segments dropped (`/api/:`). */
  readonly shape: string;
  /** Whether any segment is a `:name`. */
  readonly hasParams: boolean;
}

/** Why a pattern was refused, from {@link parsePattern}. */
export interface PatternProblem {
  /** Human-readable reason, e.g. `"**" must be the last segment`. */
  readonly reason: string;
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// RFC 3986 pchar without '*' (wildcards are whole segments) and with '%' checked separately.
const LITERAL = /^[A-Za-z0-9\-._~!$&'()+,;=:@%]+$/;
const STAR: PatternSegment = Object.freeze({ kind: 'star' });
const GLOBSTAR: PatternSegment = Object.freeze({ kind: 'globstar' });

/**
 * Parses and validates a pattern without throwing. Refused: not absolute, `**` anywhere but last,
 * wildcards inside a segment (`*.txt`), a bad `:name`, dot segments (also escaped), a query or
 * fragment, characters a client must percent-encode, and escapes that request normalisation refuses
 * (`%2F`, `%00`, `%zz`). Whatever it accepts is matched by some normalised request path.
 * Empty segments are ignored, so `/a/b/` and `/a//b` equal `/a/b`.
 * @example parsePattern('/a/**\/b') // { reason: '"**" must be the last segment' }
 */
export function parsePattern(pattern: string): CompiledPattern | PatternProblem {
  if (typeof pattern !== 'string' || pattern.charCodeAt(0) !== 0x2f) return { reason: 'a pattern must start with "/"' };
  const raw = pattern.split('/').filter((s) => s !== '');
  const segments: PatternSegment[] = [];
  for (let i = 0; i < raw.length; i++) {
    const seg = raw[i]!;
    if (seg === '**') {
      if (i !== raw.length - 1) return { reason: '"**" must be the last segment' };
      segments.push(GLOBSTAR);
    } else if (seg === '*') {
      segments.push(STAR);
    } else if (seg.startsWith(':')) {
      const name = seg.slice(1);
      if (!PARAM_NAME.test(name))
        return { reason: `bad parameter name "${seg}" (a letter or _, then letters, digits, _)` };
      segments.push(Object.freeze({ kind: 'param', name }));
    } else {
      const value = literalOf(seg);
      if (typeof value !== 'string') return value;
      segments.push(Object.freeze({ kind: 'static', value }));
    }
  }
  const shape = `/${segments.map(segmentShape).join('/')}`;
  const hasParams = segments.some((seg) => seg.kind === 'param');
  return Object.freeze({ pattern, segments: Object.freeze(segments), shape, hasParams });
}

/** True when {@link parsePattern} refused the pattern. */
export function isPatternProblem(result: CompiledPattern | PatternProblem): result is PatternProblem {
  return (result as PatternProblem).reason !== undefined;
}

/**
 * Parses a pattern or throws a FleetgateError (`code`, details `{ path, reason }`).
 * @param code `ERR_FG_INVALID_CONFIG` for configuration, `ERR_FG_INVALID_ROUTE` for registrations.
 * @default code 'ERR_FG_INVALID_CONFIG'
 * @example compilePattern('/api/users/:id').shape // '/api/users/:'
 */
export function compilePattern(pattern: string, code: ErrorCode = 'ERR_FG_INVALID_CONFIG'): CompiledPattern {
  const result = parsePattern(pattern);
  if (!isPatternProblem(result)) return result;
  throw new FleetgateError(code, `invalid route pattern "${pattern}": ${result.reason}`, {
    details: { path: pattern, reason: result.reason },
  });
}

/**
 * Orders two patterns by precedence: negative when `a` is more specific. Per segment from the
 * left: static < param < `*` < `**`; a pattern that ends where the other has `**` is more specific.
 * @example comparePatterns(compilePattern('/a/me'), compilePattern('/a/:id')) < 0 // true
 */
export function comparePatterns(a: CompiledPattern, b: CompiledPattern): number {
  const n = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const d = rank(a.segments[i]) - rank(b.segments[i]);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The key that identifies a route's shape: equal for the same protocol, method and pattern shape.
 * @example routeShapeKeyOf('http', 'get', compilePattern('/a/:id')) // 'http GET /a/:'
 */
export function routeShapeKeyOf(protocol: string, method: string, compiled: CompiledPattern): string {
  return `${protocol} ${normalizeMethod(method)} ${compiled.shape}`;
}

/**
 * Upper-cases a method; empty or absent means any (`*`).
 * @example normalizeMethod('get') // 'GET'
 */
export function normalizeMethod(method: string | undefined): string {
  switch (method) {
    // Node hands over methods already upper case: skip the copy on the request path.
    case 'GET':
    case 'POST':
    case 'PUT':
    case 'DELETE':
    case 'PATCH':
    case 'HEAD':
    case 'OPTIONS':
    case '*':
      return method;
    case undefined:
    case '':
      return '*';
    default:
      return method.toUpperCase();
  }
}

/**
 * Whether a route declared for `routeMethod` takes a request with `requestMethod` (both
 * normalised): equal, the route's `*`, or a HEAD request on a GET route (HEAD falls back to GET).
 * @example routeAcceptsMethod('GET', 'HEAD') // true
 */
export function routeAcceptsMethod(routeMethod: string, requestMethod: string): boolean {
  return routeMethod === '*' || routeMethod === requestMethod || (routeMethod === 'GET' && requestMethod === 'HEAD');
}

/**
 * Whether some request method is taken by routes declared for `a` and for `b`: equal, either `*`,
 * or HEAD against GET (a HEAD request falls back to a GET route).
 * @example methodsOverlap('HEAD', 'GET') // true
 */
export function methodsOverlap(a: string, b: string): boolean {
  const ma = normalizeMethod(a);
  const mb = normalizeMethod(b);
  return routeAcceptsMethod(ma, mb) || routeAcceptsMethod(mb, ma);
}

/**
 * Splits a normalised path into its non-empty segments (a trailing slash does not count).
 * @example splitSegments('/api/users/') // ['api', 'users']
 */
export function splitSegments(path: string): string[] {
  const out: string[] = [];
  let from = 0;
  for (;;) {
    const j = path.indexOf('/', from);
    if (j < 0) {
      if (from < path.length) out.push(path.slice(from));
      return out;
    }
    if (j > from) out.push(path.slice(from, j));
    from = j + 1;
  }
}

/**
 * Whether `segments` match `compiled`; returns the `:name` values or `undefined`.
 * The slow, obviously-correct matcher: the reference for the route trie in tests, and the
 * matcher of short lists (rate-limit routes, reserved paths).
 * @example matchSegments(compilePattern('/a/:id'), ['a', '7']) // { id: '7' }
 */
export function matchSegments(
  compiled: CompiledPattern,
  segments: readonly string[],
): Record<string, string> | undefined {
  const pat = compiled.segments;
  const params: Record<string, string> = {};
  for (let i = 0; i < pat.length; i++) {
    const p = pat[i]!;
    if (p.kind === 'globstar') return params;
    const s = segments[i];
    if (s === undefined) return undefined;
    if (p.kind === 'static') {
      if (p.value !== s) return undefined;
    } else if (p.kind === 'param') {
      params[p.name] = s;
    }
  }
  return pat.length === segments.length ? params : undefined;
}

/**
 * Whether a normalised path (from lib/core/path-normalize.ts, no query) matches `compiled`.
 * @example matchesPath(compilePattern('/api/login'), '/api/login/') // true
 */
export function matchesPath(compiled: CompiledPattern, path: string): boolean {
  return matchSegments(compiled, splitSegments(path)) !== undefined;
}

/**
 * The `:name` values of `path`, which is known to match `compiled` (after a trie lookup).
 * Values are the normalised path segments, still percent-encoded where they were.
 * @example extractParams(compilePattern('/a/:id'), '/a/7') // { id: '7' }
 */
export function extractParams(compiled: CompiledPattern, path: string): Record<string, string> {
  const params: Record<string, string> = {};
  if (!compiled.hasParams) return params;
  const pat = compiled.segments;
  let pos = 0;
  for (let i = 0; i < pat.length; i++) {
    while (path.charCodeAt(pos) === 0x2f) pos++;
    let end = path.indexOf('/', pos);
    if (end < 0) end = path.length;
    const p = pat[i]!;
    if (p.kind === 'param') params[p.name] = path.slice(pos, end);
    pos = end;
  }
  return params;
}

function rank(seg: PatternSegment | undefined): number {
  if (seg === undefined) return -1;
  switch (seg.kind) {
    case 'static':
      return 0;
    case 'param':
      return 1;
    case 'star':
      return 2;
    case 'globstar':
      return 3;
  }
}

function segmentShape(seg: PatternSegment): string {
  switch (seg.kind) {
    case 'static':
      return seg.value;
    case 'param':
      return ':';
    case 'star':
      return '*';
    case 'globstar':
      return '**';
  }
}

/**
 * A literal as the normalised request path spells it (so `%63omments` equals `comments`), or why
 * no request path could ever carry it.
 */
function literalOf(seg: string): string | PatternProblem {
  if (seg.includes('*')) return { reason: `wildcards must be a whole segment, got "${seg}"` };
  if (seg.includes('?') || seg.includes('#')) return { reason: 'a pattern has no query or fragment' };
  if (!LITERAL.test(seg)) return { reason: `"${seg}" holds characters a client must percent-encode` };
  const res = normalizePath(`/${seg}`);
  if (isPathFailure(res)) return { reason: `"${seg}": ${res.reason}` };
  const value = res.path.slice(1);
  // Dot segments (also escaped ones) are resolved away by normalisation: no request ends on one.
  if (value === '' || value.includes('/') || seg === '.' || seg === '..' || /^\.\.?;/.test(value)) {
    return { reason: `dot segment "${seg}" is not allowed` };
  }
  return value;
}
