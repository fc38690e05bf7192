/**
 * The exact overlap test between two routes: could one request (method, normalised path,
 * protocol) match both? This is what a route conflict means (docs/architecture.md); comparing
 * pattern text instead let `/api/comments/:id` take the traffic of `/api/comments/*`.
 */
import { gatewaysDisjoint } from './gateway-targets.js';
import { type CompiledPattern, methodsOverlap, type PatternSegment } from './route-pattern.js';
import { type CompiledPredicates, predicatesDisjoint } from './route-predicates.js';

/**
 * Whether some normalised path matches both patterns. Exact: every accepted pattern is matched
 * by some path (lib/core/route-pattern.ts), so the segment-by-segment answer is the whole answer.
 * @example patternsOverlap(compilePattern('/api/comments/*'), compilePattern('/api/:x/7')) // true
 */
export function patternsOverlap(a: CompiledPattern, b: CompiledPattern): boolean {
  return segmentsOverlap(a.segments, b.segments, 0);
}

/** A route as the overlap test sees it. */
export interface OverlapRoute {
  readonly compiled: CompiledPattern;
  /** Normalised method or `*`. */
  readonly method: string;
  /** @default 'http' */
  readonly protocol?: 'http' | 'ws';
  /** Host, header, query and claim conditions (lib/core/route-predicates.ts). @default none */
  readonly predicates?: CompiledPredicates | undefined;
  /** The gateways that serve the route (lib/core/gateway-targets.ts). @default all */
  readonly gateways?: readonly string[] | undefined;
}

/**
 * Whether one request could match both routes: same protocol, overlapping methods (equal, either
 * `*`, or HEAD against GET), overlapping patterns, some gateway that serves both, and predicates
 * that are not provably disjoint ({@link predicatesDisjoint}: when in doubt, they overlap).
 * @example routesOverlap({ compiled: compilePattern('/**'), method: 'GET' }, { compiled: compilePattern('/x'), method: '*' }) // true
 */
export function routesOverlap(a: OverlapRoute, b: OverlapRoute): boolean {
  return (
    (a.protocol ?? 'http') === (b.protocol ?? 'http') &&
    methodsOverlap(a.method, b.method) &&
    patternsOverlap(a.compiled, b.compiled) &&
    !gatewaysDisjoint(a.gateways, b.gateways) &&
    !predicatesDisjoint(a.predicates, b.predicates)
  );
}

function segmentsOverlap(a: readonly PatternSegment[], b: readonly PatternSegment[], i: number): boolean {
  for (; ; i++) {
    const sa = a[i];
    const sb = b[i];
    // `**` takes any rest, and the other pattern's rest is matched by some path.
    if (sa?.kind === 'globstar' || sb?.kind === 'globstar') return true;
    if (sa === undefined || sb === undefined) return sa === sb;
    if (sa.kind === 'static' && sb.kind === 'static' && sa.value !== sb.value) return false;
  }
}
