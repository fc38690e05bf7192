/**
 * The routes claimed by services (and by static gateway routes), indexed by their leading run of
 * literal segments (`/api/orders/:id` sits at `api` → `orders`), so that the overlap test of
 * lib/core/route-overlap.ts runs only against claims that could match a request together with the
 * new route: those whose literal run is a prefix of the new route's (`/api/**`, `/**`) and, when
 * the new route continues with a wildcard, those below its run (`/api/orders/7`). A thousand
 * services under `/api/…` cost a registration a few comparisons, never a scan of the fleet.
 */
import { type PatternCache, sharedPatterns } from '../core/pattern-cache.js';
import { patternsOverlap, routesOverlap } from '../core/route-overlap.js';
import { type CompiledPattern, normalizeMethod } from '../core/route-pattern.js';
import {
  type CompiledPredicates,
  cachedPredicates,
  isPredicateProblem,
  type RoutePredicates,
} from '../core/route-predicates.js';

/** The part of a route that decides conflicts; {@link RouteSpec} and static gateway routes both fit. */
export interface RouteShape {
  /** @default '*' */
  method?: string;
  path: string;
  /** @default 'http' */
  protocol?: 'http' | 'ws';
  /** Host, header, query and claim conditions. @default none */
  predicates?: RoutePredicates;
  /** Gateways that serve the route. @default every gateway */
  gateways?: readonly string[];
}

/** A route compiled for the overlap test. */
export interface ClaimedRoute {
  readonly compiled: CompiledPattern;
  /** Upper case or `*`. */
  readonly method: string;
  readonly protocol: 'http' | 'ws';
  /** The pattern as written. */
  readonly path: string;
  /** Compiled predicates; invalid ones count as none here (they are refused at admission). */
  readonly predicates: CompiledPredicates | undefined;
  readonly gateways: readonly string[] | undefined;
  /** What tells two claims of one owner apart (protocol, method, shape, predicates, gateways), built once. */
  readonly key: string;
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

/** One node of the literal-prefix index: the claims whose literal run ends here, and longer runs. */
interface PrefixNode {
  readonly claims: Map<string, Claim>;
  readonly children: Map<string, PrefixNode>;
}

function newPrefixNode(): PrefixNode {
  return { claims: new Map(), children: new Map() };
}

/**
 * Reference-counted claims per (owner, protocol, method, pattern shape).
 * @example
 * const claims = new RouteClaims();
 * claims.add('victim', [{ method: 'GET', path: '/api/comments/*' }]);
 * claims.find('attacker', compileRoute({ method: 'GET', path: '/api/comments/:id' })!)?.owner; // 'victim'
 */
export class RouteClaims {
  readonly #patterns: PatternCache;
  /** Claims by their leading literal run; the root holds those that start with a wildcard (or are `/`). */
  readonly #root: PrefixNode = newPrefixNode();
  /** Distinct claims per owner (`''` for static gateway routes). */
  readonly #distinct = new Map<string, number>();

  /** @param patterns compile cache. @default the process's shared cache */
  constructor(patterns: PatternCache = sharedPatterns) {
    this.#patterns = patterns;
  }

  /** Records the routes of one instance of `owner` (`undefined`: static gateway routes). Invalid patterns are skipped: they never route. */
  add(owner: string | undefined, routes: readonly RouteShape[]): void {
    for (const route of routes) {
      const r = compileRoute(route, this.#patterns);
      if (r !== undefined) this.#addOne(owner, r);
    }
  }

  /** {@link add} for routes compiled already (by {@link compileRoute}): the registration path compiles once. */
  addCompiled(owner: string | undefined, routes: readonly ClaimedRoute[]): void {
    for (const r of routes) this.#addOne(owner, r);
  }

  /** Forgets the routes of one instance of `owner` (the same list given to {@link add}). */
  remove(owner: string | undefined, routes: readonly RouteShape[]): void {
    for (const route of routes) {
      const r = compileRoute(route, this.#patterns);
      if (r !== undefined) this.#removeOne(owner, r);
    }
  }

  /** Forgets routes recorded by {@link addCompiled} (the same list). */
  removeCompiled(owner: string | undefined, routes: readonly ClaimedRoute[]): void {
    for (const r of routes) this.#removeOne(owner, r);
  }

  #addOne(owner: string | undefined, r: ClaimedRoute): void {
    let node = this.#root;
    for (const seg of r.compiled.segments) {
      if (seg.kind !== 'static') break;
      let child = node.children.get(seg.value);
      if (child === undefined) {
        child = newPrefixNode();
        node.children.set(seg.value, child);
      }
      node = child;
    }
    const key = claimKey(owner, r);
    const claim = node.claims.get(key);
    if (claim === undefined) {
      // Built field by field: one object shape for every claim (a spread makes a slow, varied one).
      node.claims.set(key, {
        compiled: r.compiled,
        method: r.method,
        protocol: r.protocol,
        path: r.path,
        predicates: r.predicates,
        gateways: r.gateways,
        key: r.key,
        owner,
        count: 1,
      });
      this.#distinct.set(owner ?? '', (this.#distinct.get(owner ?? '') ?? 0) + 1);
    } else claim.count++;
  }

  #removeOne(owner: string | undefined, r: ClaimedRoute): void {
    const path: [PrefixNode, string][] = [];
    let node: PrefixNode | undefined = this.#root;
    for (const seg of r.compiled.segments) {
      if (seg.kind !== 'static') break;
      const child: PrefixNode | undefined = node.children.get(seg.value);
      if (child === undefined) {
        node = undefined;
        break;
      }
      path.push([node, seg.value]);
      node = child;
    }
    const key = claimKey(owner, r);
    const claim = node?.claims.get(key);
    if (claim === undefined || --claim.count > 0) return;
    node!.claims.delete(key);
    const left = (this.#distinct.get(owner ?? '') ?? 1) - 1;
    if (left === 0) this.#distinct.delete(owner ?? '');
    else this.#distinct.set(owner ?? '', left);
    // Services come and go for the gateway's whole life: empty branches must not pile up.
    for (let i = path.length - 1; i >= 0; i--) {
      const [parent, label] = path[i]!;
      const child = parent.children.get(label)!;
      if (child.claims.size > 0 || child.children.size > 0) break;
      parent.children.delete(label);
    }
  }

  /** Number of distinct routes `owner` claims (each counted once however many instances hold it). */
  distinctOf(owner: string): number {
    return this.#distinct.get(owner) ?? 0;
  }

  /** How many instances of `owner` hold `route` (0 when none does). */
  holders(owner: string, route: ClaimedRoute): number {
    let node: PrefixNode | undefined = this.#root;
    for (const seg of route.compiled.segments) {
      if (seg.kind !== 'static') break;
      node = node.children.get(seg.value);
      if (node === undefined) return 0;
    }
    return node.claims.get(claimKey(owner, route))?.count ?? 0;
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

  /**
   * Claims that could overlap `compiled`: two patterns can match one path only if their literal
   * segments agree wherever both have one. So: the claims along `compiled`'s literal run (their
   * run is a prefix of it) and, when a wildcard follows the run, every claim below it.
   */
  *#candidates(compiled: CompiledPattern): IterableIterator<Claim> {
    let node = this.#root;
    let wildAfterRun = false;
    for (const seg of compiled.segments) {
      yield* node.claims.values();
      if (seg.kind !== 'static') {
        wildAfterRun = true;
        break;
      }
      const child = node.children.get(seg.value);
      if (child === undefined) return;
      node = child;
    }
    if (!wildAfterRun) {
      // A fully literal route: claims whose run is longer need more segments than it has.
      yield* node.claims.values();
      return;
    }
    yield* subtreeClaims(node, false);
  }
}

/** Every claim below `node` (and at it when `self`). */
function* subtreeClaims(node: PrefixNode, self: boolean): IterableIterator<Claim> {
  if (self) yield* node.claims.values();
  for (const child of node.children.values()) yield* subtreeClaims(child, true);
}

/**
 * A route compiled for the overlap test, or `undefined` when its pattern does not compile.
 * @example compileRoute({ method: 'get', path: '/a/:id' })?.method // 'GET'
 */
export function compileRoute(route: RouteShape, patterns?: PatternCache): ClaimedRoute | undefined {
  const compiled = (patterns ?? sharedPatterns).compile(route.path);
  if (compiled === null) return undefined;
  const cached = cachedPredicates(route.predicates);
  const predicates = cached === undefined || isPredicateProblem(cached) ? undefined : cached;
  const method = normalizeMethod(route.method);
  const protocol = route.protocol ?? 'http';
  const gateways = route.gateways === undefined || route.gateways.length === 0 ? undefined : route.gateways;
  const key = `${protocol}\0${method}\0${compiled.shape}\0${predicates?.key ?? ''}\0${gateways?.join(',') ?? ''}`;
  return { compiled, method, protocol, path: route.path, predicates, gateways, key };
}

function claimKey(owner: string | undefined, r: ClaimedRoute): string {
  return `${owner ?? ''}\0${r.key}`;
}

function refOf(claim: Claim): ClaimRef {
  return {
    ...(claim.owner === undefined ? { static: true as const } : { service: claim.owner }),
    method: claim.method,
    path: claim.path,
    protocol: claim.protocol,
  };
}
