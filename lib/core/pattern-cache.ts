/**
 * Compiled patterns by source text, so the route table and the registry's claim index compile
 * each distinct pattern once even though every heartbeat and rebuild hands them the routes again.
 */
import { type CompiledPattern, isPatternProblem, parsePattern } from './route-pattern.js';

/**
 * A bounded cache of compiled patterns; `null` for a pattern that does not compile (stored
 * instances from before registration-time validation, which never route).
 * @example const compiled = new PatternCache().compile('/api/:id');
 */
export class PatternCache {
  readonly #compiled = new Map<string, CompiledPattern | null>();
  readonly #max: number;

  /** @param max entries kept before the cache starts over. @default 10000 */
  constructor(max = 10_000) {
    this.#max = max;
  }

  /** The compiled pattern, or `null` when `path` is not a valid pattern. */
  compile(path: string): CompiledPattern | null {
    let compiled = this.#compiled.get(path);
    if (compiled === undefined) {
      const parsed = parsePattern(path);
      compiled = isPatternProblem(parsed) ? null : parsed;
      // Patterns come from registrations; a churning fleet must not grow this without bound.
      if (this.#compiled.size >= this.#max) this.#compiled.clear();
      this.#compiled.set(path, compiled);
    }
    return compiled;
  }
}

/**
 * The process's shared cache: the route tables and the registry's claim indexes compile the same
 * registered patterns, and sharing one cache keeps one compiled copy of each (about 1 KB per
 * pattern) instead of one per index. Bounded above the 5,000 routes of docs/scale.md.
 * @example const compiled = sharedPatterns.compile('/api/:id');
 */
export const sharedPatterns = new PatternCache(20_000);
