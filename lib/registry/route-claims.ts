/**
 * The routes claimed by services (and by static gateway routes), indexed so that the overlap test
 * of lib/core/route-overlap.ts runs only against claims that share the new route's leading
 * literal segment, plus the few claims that start with a wildcard: never a scan of the fleet.
 */
import { PatternCache } from '../core/pattern-cache.js';
import { patternsOverlap, routesOverlap } from '../core/route-overlap.js';
import { type CompiledPattern, normalizeMethod } from '../core/route-pattern.js';

/** The part of a route that decides conflicts; {@link RouteSpec} and static gateway routes both fit. */
export interface RouteShape {
  /** @default '*' */
  method?: string;
  path: string;
  /** @default 'http' */
  protocol?: 'http' | 'ws';
}

/** A route compiled for the overlap test. */
export interface ClaimedRoute {
  readonly compiled: CompiledPattern;
  /** Upper case or `*`. */
  readonly method: string;
  readonly protocol: 'http' | 'ws';
  /** The pattern as written. */
  readonly path: string;
}

/** Who holds a claim, as reported in a conflict or a shadow warning. */
export interface ClaimRef {
  /** The owning service; absent for a static gateway route or a reserved path. */
  service?: string;
  /** A static gateway route. */
  static?: true;
  /** One of the gateway's reserved paths (lib/core/reserved-paths.ts). */
  reserved?: true;
  /** The claim is the `/{service}/…` name prefix of this service. */
  nameOf?: string;
  method: string;
  path: string;
  protocol: 'http' | 'ws';
}

interface Claim extends ClaimedRoute {
  /** `undefined` for static gateway routes. */
  readonly owner: string | undefined;
  count: number;
}

/** Bucket of patterns without segments (`/`): nothing static starts with an empty literal. */
const ROOT = '';

/**
 * Reference-counted claims per (owner, protocol, method, pattern shape).
 * @example
 * const claims = new RouteClaims();
 * claims.add('victim', [{ method: 'GET', path: '/api/comments/*' }]);
 * claims.find('attacker', compileRoute({ method: 'GET', path: '/api/comments/:id' })!)?.owner; // 'victim'
 */
export class RouteClaims {
  readonly #patterns: PatternCache;
  /** Leading literal → claim key → claim. */
  readonly #byFirst = new Map<string, Map<string, Claim>>();
  /** Claims whose first segment is `:param`, `*` or `**`: they may overlap anything. */
  readonly #wildFirst = new Map<string, Claim>();

  /** @param patterns shared compile cache. @default a new PatternCache */
  constructor(patterns: PatternCache = new PatternCache()) {
    this.#patterns = patterns;
  }

  /** Records the routes of one instance of `owner` (`undefined`: static gateway routes). Invalid patterns are skipped: they never route. */
  add(owner: string | undefined, routes: readonly RouteShape[]): void {
    for (const route of routes) {
      const r = compileRoute(route, this.#patterns);
      if (r === undefined) continue;
      const bucket = this.#bucket(r.compiled, true)!;
      const key = claimKey(owner, r);
      const claim = bucket.get(key);
      if (claim === undefined) bucket.set(key, { ...r, owner, count: 1 });
      else claim.count++;
    }
  }

  /** Forgets the routes of one instance of `owner` (the same list given to {@link add}). */
  remove(owner: string | undefined, routes: readonly RouteShape[]): void {
    for (const route of routes) {
      const r = compileRoute(route, this.#patterns);
      if (r === undefined) continue;
      const bucket = this.#bucket(r.compiled, false);
      const key = claimKey(owner, r);
      const claim = bucket?.get(key);
      if (claim === undefined || --claim.count > 0) continue;
      bucket!.delete(key);
      const first = firstLiteral(r.compiled);
      if (first !== undefined && bucket!.size === 0) this.#byFirst.delete(first);
    }
  }

  /** The first claim of another owner that one request could match together with `route`. */
  find(owner: string, route: ClaimedRoute): ClaimRef | undefined {
    for (const claim of this.#candidates(route.compiled)) {
      if (claim.owner === owner) continue;
      if (routesOverlap(claim, route)) return refOf(claim);
    }
    return undefined;
  }

  /** Claims of owners other than `except` whose pattern overlaps `compiled`, whatever the method and protocol. */
  overlappingPattern(compiled: CompiledPattern, except: string): ClaimRef[] {
    const out: ClaimRef[] = [];
    for (const claim of this.#candidates(compiled)) {
      if (claim.owner !== except && patternsOverlap(claim.compiled, compiled)) out.push(refOf(claim));
    }
    return out;
  }

  *#candidates(compiled: CompiledPattern): IterableIterator<Claim> {
    const first = firstLiteral(compiled);
    if (first === undefined) {
      for (const bucket of this.#byFirst.values()) yield* bucket.values();
    } else {
      const bucket = this.#byFirst.get(first);
      if (bucket !== undefined) yield* bucket.values();
    }
    yield* this.#wildFirst.values();
  }

  #bucket(compiled: CompiledPattern, create: boolean): Map<string, Claim> | undefined {
    const first = firstLiteral(compiled);
    if (first === undefined) return this.#wildFirst;
    let bucket = this.#byFirst.get(first);
    if (bucket === undefined && create) {
      bucket = new Map();
      this.#byFirst.set(first, bucket);
    }
    return bucket;
  }
}

/**
 * A route compiled for the overlap test, or `undefined` when its pattern does not compile.
 * @example compileRoute({ method: 'get', path: '/a/:id' })?.method // 'GET'
 */
export function compileRoute(route: RouteShape, patterns?: PatternCache): ClaimedRoute | undefined {
  const compiled = (patterns ?? defaultPatterns).compile(route.path);
  if (compiled === null) return undefined;
  return { compiled, method: normalizeMethod(route.method), protocol: route.protocol ?? 'http', path: route.path };
}

const defaultPatterns = new PatternCache();

/** The leading literal of a pattern, `''` for `/`, `undefined` when it starts with a wildcard. */
function firstLiteral(compiled: CompiledPattern): string | undefined {
  const first = compiled.segments[0];
  if (first === undefined) return ROOT;
  return first.kind === 'static' ? first.value : undefined;
}

function claimKey(owner: string | undefined, r: ClaimedRoute): string {
  return `${owner ?? ''}\0${r.protocol}\0${r.method}\0${r.compiled.shape}`;
}

function refOf(claim: Claim): ClaimRef {
  return {
    ...(claim.owner === undefined ? { static: true as const } : { service: claim.owner }),
    method: claim.method,
    path: claim.path,
    protocol: claim.protocol,
  };
}
