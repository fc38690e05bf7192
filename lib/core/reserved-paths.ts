/**
 * The gateway's own paths. No registration may claim them (or any pattern overlapping them), and
 * no spelling of them is ever forwarded to a service: requests are matched against this list
 * after the same normalisation as the proxy (docs/architecture.md, the request pipeline).
 */

import { patternsOverlap } from './route-overlap.js';
import { type CompiledPattern, compilePattern, matchSegments, splitSegments } from './route-pattern.js';

/**
 * The reserved patterns: the registration API, health and metrics, operator endpoints,
 * orchestrator probes and the compatibility APIs (Eureka, Consul). Frozen; import it, never copy it.
 */
export const RESERVED_PATHS: readonly string[] = Object.freeze([
  '/internal/**',
  '/health',
  '/metrics',
  '/_fleetgate/**',
  '/livez',
  '/readyz',
  '/eureka/**',
  '/v1/agent/**',
  '/v1/catalog/**',
  '/v1/health/**',
]);

const COMPILED: readonly CompiledPattern[] = Object.freeze(RESERVED_PATHS.map((p) => compilePattern(p)));
/** Leading literals of the reserved patterns: a path starting elsewhere is decided at once. */
const FIRST = new Set(COMPILED.map((c) => (c.segments[0] as { value: string }).value));

/**
 * The reserved pattern a normalised path (no query) falls under, or `undefined`.
 * Cheap for ordinary paths: one segment is read and looked up.
 * @example reservedPathOf('/internal/services') // '/internal/**'
 */
export function reservedPathOf(path: string): string | undefined {
  let start = 0;
  while (path.charCodeAt(start) === 0x2f) start++;
  let end = path.indexOf('/', start);
  if (end < 0) end = path.length;
  if (!FIRST.has(path.slice(start, end))) return undefined;
  const segments = splitSegments(path);
  for (const c of COMPILED) if (matchSegments(c, segments) !== undefined) return c.pattern;
  return undefined;
}

/**
 * The reserved pattern that `compiled` overlaps (some request could match both), or `undefined`.
 * @example reservedOverlapOf(compilePattern('/:x')) // '/internal/**' (it matches /internal)
 */
export function reservedOverlapOf(compiled: CompiledPattern): string | undefined {
  for (const c of COMPILED) if (patternsOverlap(c, compiled)) return c.pattern;
  return undefined;
}
