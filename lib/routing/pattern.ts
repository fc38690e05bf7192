/**
 * Route patterns: `*` one segment, `**` the rest (zero or more segments), `:name` a named
 * segment, anything else a literal. Precedence, compared segment by segment from the left:
 * static > `:param` > `*` > `**`.
 */
import { FleetgateError } from '../errors.js';
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
  /** Equal for patterns that differ only in parameter names or slashes, e.g. `/api/:`. */
  readonly shape: string;
  /** Whether any segment is a `:name`. */
  readonly hasParams: boolean;
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const STAR: PatternSegment = Object.freeze({ kind: 'star' });
const GLOBSTAR: PatternSegment = Object.freeze({ kind: 'globstar' });

/**
 * Parses a pattern. Throws `ERR_FG_INVALID_CONFIG` when it is not absolute, has `**` anywhere but
 * last, a `.`/`..` segment, a wildcard inside a segment (`*.txt`), or an empty `:` name.
 * Empty segments are ignored, so `/a/b/` and `/a//b` equal `/a/b`.
 * @example compilePattern('/api/users/:id').shape // '/api/users/:'
 */
export function compilePattern(pattern: string): CompiledPattern {
  if (typeof pattern !== 'string' || pattern.charCodeAt(0) !== 0x2f) {
    throw invalid(pattern, 'a pattern must start with "/"');
  }
  const raw = pattern.split('/').filter((s) => s !== '');
  const segments: PatternSegment[] = [];
  for (let i = 0; i < raw.length; i++) {
    const seg = raw[i]!;
    if (seg === '**') {
      if (i !== raw.length - 1) throw invalid(pattern, '"**" must be the last segment');
      segments.push(GLOBSTAR);
    } else if (seg === '*') {
      segments.push(STAR);
    } else if (seg.startsWith(':')) {
      const name = seg.slice(1);
      if (!PARAM_NAME.test(name)) throw invalid(pattern, `bad parameter name "${seg}"`);
      segments.push(Object.freeze({ kind: 'param', name }));
    } else {
      if (seg.includes('*')) throw invalid(pattern, `wildcards must be a whole segment, got "${seg}"`);
      if (seg === '.' || seg === '..') throw invalid(pattern, 'dot segments are not allowed');
      if (seg.includes('?') || seg.includes('#')) throw invalid(pattern, 'a pattern has no query or fragment');
      segments.push(Object.freeze({ kind: 'static', value: normalizeLiteral(pattern, seg) }));
    }
  }
  const shape = `/${segments.map(segmentShape).join('/')}`;
  const hasParams = segments.some((seg) => seg.kind === 'param');
  return Object.freeze({ pattern, segments: Object.freeze(segments), shape, hasParams });
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
 * Same format as the registry's collision check (`http GET /api/:`).
 * @example routeShapeKeyOf('http', 'get', compilePattern('/a/:id')) // 'http GET /a/:'
 */
export function routeShapeKeyOf(protocol: string, method: string, compiled: CompiledPattern): string {
  return `${protocol} ${normalizeMethod(method)} ${compiled.shape}`;
}

/** Upper-cases a method; empty or absent means any (`*`). */
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
 * The slow, obviously-correct matcher: the reference for the trie in tests and for `explain`.
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

/** Literals go through the same escape normalisation as request paths, so they compare equal. */
function normalizeLiteral(pattern: string, seg: string): string {
  if (!seg.includes('%')) return seg;
  const res = normalizePath(`/${seg}`);
  if (isPathFailure(res) || res.query !== '') throw invalid(pattern, `bad escape in "${seg}"`);
  return res.path.slice(1);
}

function invalid(pattern: string, why: string): FleetgateError {
  return new FleetgateError('ERR_FG_INVALID_CONFIG', `invalid route pattern "${pattern}": ${why}`, {
    details: { pattern },
  });
}
