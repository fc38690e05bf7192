/**
 * Settings attached to routes by name, for middlewares that act per route (`jwtAuth()` scopes
 * and roles, `cors()` policies). A policy is keyed by a route as it is written in the route table,
 * `"GET /api/comments/*"` or `"/api/comments/*"` (any method), and found from the route the
 * request RESOLVED to ({@link resolveIncoming}), never by matching the path a second time: the
 * policy applies exactly where the route applies, to every spelling of the path.
 */
import { PatternCache } from '../core/pattern-cache.js';
import { compilePattern, normalizeMethod } from '../core/route-pattern.js';
import { FleetgateError } from '../errors.js';
import type { RouteMatch } from './types.js';

/**
 * Policies by route.
 * @example
 * const scopes = new RoutePolicies({ 'POST /api/comments/*': ['comments:write'] }, 'jwtAuth.routeRequirements');
 * scopes.for('POST', match) // ['comments:write'] for a request that resolved to that route
 */
export class RoutePolicies<T> {
  readonly #byKey = new Map<string, T>();
  readonly #patterns = new PatternCache(1000);

  /** @throws FleetgateError `ERR_FG_INVALID_CONFIG` naming `source` and the key. */
  constructor(policies: Readonly<Record<string, T>>, source: string) {
    for (const [key, value] of Object.entries(policies)) {
      const space = key.indexOf(' ');
      const method = space === -1 ? '*' : normalizeMethod(key.slice(0, space));
      const path = space === -1 ? key : key.slice(space + 1).trim();
      let shape: string;
      try {
        shape = compilePattern(path).shape;
      } catch (err) {
        throw new FleetgateError(
          'ERR_FG_INVALID_CONFIG',
          `${source}: ${JSON.stringify(key)}: ${(err as Error).message}`,
          {
            details: { option: source, value: key, expected: '"METHOD /pattern" or "/pattern" as in the route table' },
          },
        );
      }
      this.#byKey.set(`${method} ${shape}`, value);
    }
  }

  /** How many policies there are. */
  get size(): number {
    return this.#byKey.size;
  }

  /** The policy of the route `match` for a request with `method` (HEAD falls back to GET, then any method). */
  for(method: string, match: RouteMatch): T | undefined {
    if (this.#byKey.size === 0) return undefined;
    const shape = this.#patterns.compile(match.pattern)?.shape;
    if (shape === undefined) return undefined;
    const m = normalizeMethod(method);
    return (
      this.#byKey.get(`${m} ${shape}`) ??
      (m === 'HEAD' ? this.#byKey.get(`GET ${shape}`) : undefined) ??
      this.#byKey.get(`* ${shape}`)
    );
  }
}
