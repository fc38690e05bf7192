/**
 * A segment trie of route patterns. Lookup walks one node per path segment, trying children in
 * precedence order (static, `:param`, `*`, `**`) and backtracking, so the first full match is the
 * most specific pattern; each node is visited at most once, so a lookup is O(depth) in practice
 * and never worse than O(nodes). It reads the path string in place: a segment is only copied
 * out where a node has many static children (a map lookup needs a key).
 */
import type { CompiledPattern } from '../core/route-pattern.js';
import type { CompiledPredicates, PredicateRequest } from '../core/route-predicates.js';

/** What the trie stores: anything that carries its compiled pattern, and maybe predicates. */
export interface TrieValue {
  readonly compiled: CompiledPattern;
  /** Host/header/query/claim conditions; a value whose predicates fail is passed over. */
  readonly predicates?: CompiledPredicates | undefined;
}

/** A request that meets no predicate (no headers, no claims): used when the caller has none. */
const NO_REQUEST: PredicateRequest = Object.freeze({ headers: Object.freeze({}) });

interface TrieNode<T> {
  statics: Map<string, TrieNode<T>> | undefined;
  /** The same children as a list while there are few: comparing in place beats slicing a key. */
  staticList: [label: string, node: TrieNode<T>][] | undefined;
  param: TrieNode<T> | undefined;
  star: TrieNode<T> | undefined;
  globstar: TrieNode<T> | undefined;
  /** Values ending here, per method (`*` = any); the first of each list wins. */
  methods: Map<string, T[]> | undefined;
}

/**
 * Route patterns by method, with most-specific-first lookup.
 * @example
 * const trie = new RouteTrie<{ compiled: CompiledPattern }>();
 * trie.insert('GET', { compiled: compilePattern('/a/:id') });
 * trie.lookup('GET', '/a/1');
 */
export class RouteTrie<T extends TrieValue> {
  readonly #root: TrieNode<T> = newNode();
  readonly #order: (a: T, b: T) => number;
  #size = 0;

  /**
   * @param order sorts values that share a method and pattern shape; the first one whose
   * predicates hold wins. Values with predicates always come before values without.
   */
  constructor(order?: (a: T, b: T) => number) {
    this.#order = (a, b) =>
      (b.predicates === undefined ? 0 : 1) - (a.predicates === undefined ? 0 : 1) || (order?.(a, b) ?? 0);
  }

  /** Number of stored values. */
  get size(): number {
    return this.#size;
  }

  /** Adds `value` under `method` (upper case or `*`) at its pattern. */
  insert(method: string, value: T): void {
    let node = this.#root;
    for (const seg of value.compiled.segments) {
      switch (seg.kind) {
        case 'static': {
          node.statics ??= new Map();
          let next = node.statics.get(seg.value);
          if (next === undefined) {
            next = newNode();
            node.statics.set(seg.value, next);
            syncStaticList(node);
          }
          node = next;
          break;
        }
        case 'param':
          node = node.param ??= newNode();
          break;
        case 'star':
          node = node.star ??= newNode();
          break;
        case 'globstar':
          node = node.globstar ??= newNode();
          break;
      }
    }
    node.methods ??= new Map();
    const list = node.methods.get(method);
    if (list === undefined) node.methods.set(method, [value]);
    else {
      list.push(value);
      list.sort(this.#order);
    }
    this.#size++;
  }

  /** Removes `value` (by identity); prunes nodes left empty. Returns whether it was there. */
  remove(method: string, value: T): boolean {
    const removed = removeAt(this.#root, value.compiled, 0, method, value);
    if (removed) this.#size--;
    return removed;
  }

  /**
   * The most specific value matching `path` (normalised, no query) for `method` (upper case).
   * At one pattern an exact-method value beats `*`; `HEAD` falls back to `GET`. Empty segments
   * (a trailing slash) are skipped. A value with predicates is taken only when they hold for
   * `req` and `query` (its query string with `?`, or `''`); without `req` they never hold.
   */
  lookup(method: string, path: string, req: PredicateRequest = NO_REQUEST, query = ''): T | undefined {
    return find(this.#root, path, 0, method, req, query);
  }

  /** Every stored value (for listing and tests). */
  *values(): IterableIterator<T> {
    yield* walk(this.#root);
  }
}

function newNode<T>(): TrieNode<T> {
  return {
    statics: undefined,
    staticList: undefined,
    param: undefined,
    star: undefined,
    globstar: undefined,
    methods: undefined,
  };
}

const SMALL = 8;

function syncStaticList<T>(node: TrieNode<T>): void {
  node.staticList = node.statics !== undefined && node.statics.size <= SMALL ? [...node.statics] : undefined;
}

function pick<T extends TrieValue>(
  node: TrieNode<T>,
  method: string,
  req: PredicateRequest,
  query: string,
): T | undefined {
  const methods = node.methods;
  if (methods === undefined) return undefined;
  const exact = methods.get(method);
  if (exact !== undefined) {
    const hit = firstAccepting(exact, req, query);
    if (hit !== undefined) return hit;
  }
  if (method === 'HEAD') {
    const get = methods.get('GET');
    if (get !== undefined) {
      const hit = firstAccepting(get, req, query);
      if (hit !== undefined) return hit;
    }
  }
  const any = methods.get('*');
  return any === undefined ? undefined : firstAccepting(any, req, query);
}

/** The first value whose predicates hold; values with predicates sort first, so none: the first. */
function firstAccepting<T extends TrieValue>(list: readonly T[], req: PredicateRequest, query: string): T | undefined {
  const head = list[0];
  if (head === undefined || head.predicates === undefined) return head;
  for (let i = 0; i < list.length; i++) {
    const v = list[i]!;
    if (v.predicates === undefined || v.predicates.test(req, query)) return v;
  }
  return undefined;
}

function find<T extends TrieValue>(
  node: TrieNode<T>,
  path: string,
  from: number,
  method: string,
  req: PredicateRequest,
  query: string,
): T | undefined {
  const len = path.length;
  let pos = from;
  while (pos < len && path.charCodeAt(pos) === SLASH) pos++;
  if (pos >= len) {
    const here = pick(node, method, req, query);
    if (here !== undefined) return here;
    return node.globstar === undefined ? undefined : pick(node.globstar, method, req, query);
  }
  let end = path.indexOf('/', pos);
  if (end < 0) end = len;
  const child = staticChild(node, path, pos, end);
  if (child !== undefined) {
    const hit = find(child, path, end, method, req, query);
    if (hit !== undefined) return hit;
  }
  if (node.param !== undefined) {
    const hit = find(node.param, path, end, method, req, query);
    if (hit !== undefined) return hit;
  }
  if (node.star !== undefined) {
    const hit = find(node.star, path, end, method, req, query);
    if (hit !== undefined) return hit;
  }
  return node.globstar === undefined ? undefined : pick(node.globstar, method, req, query);
}

const SLASH = 0x2f;

function staticChild<T>(node: TrieNode<T>, path: string, pos: number, end: number): TrieNode<T> | undefined {
  const list = node.staticList;
  if (list !== undefined) {
    const n = end - pos;
    for (let k = 0; k < list.length; k++) {
      const entry = list[k]!;
      if (entry[0].length === n && path.startsWith(entry[0], pos)) return entry[1];
    }
    return undefined;
  }
  return node.statics?.get(path.slice(pos, end));
}

function removeAt<T>(node: TrieNode<T>, compiled: CompiledPattern, i: number, method: string, value: T): boolean {
  if (i === compiled.segments.length) {
    const list = node.methods?.get(method);
    const at = list === undefined ? -1 : list.indexOf(value);
    if (at < 0) return false;
    list!.splice(at, 1);
    if (list!.length === 0) node.methods!.delete(method);
    if (node.methods!.size === 0) node.methods = undefined;
    return true;
  }
  const seg = compiled.segments[i]!;
  let child: TrieNode<T> | undefined;
  switch (seg.kind) {
    case 'static':
      child = node.statics?.get(seg.value);
      break;
    case 'param':
      child = node.param;
      break;
    case 'star':
      child = node.star;
      break;
    case 'globstar':
      child = node.globstar;
      break;
  }
  if (child === undefined || !removeAt(child, compiled, i + 1, method, value)) return false;
  if (isEmpty(child)) {
    // Services come and go for the gateway's whole life: empty branches must not pile up.
    switch (seg.kind) {
      case 'static':
        node.statics!.delete(seg.value);
        if (node.statics!.size === 0) node.statics = undefined;
        syncStaticList(node);
        break;
      case 'param':
        node.param = undefined;
        break;
      case 'star':
        node.star = undefined;
        break;
      case 'globstar':
        node.globstar = undefined;
        break;
    }
  }
  return true;
}

function isEmpty<T>(node: TrieNode<T>): boolean {
  return (
    node.methods === undefined &&
    node.statics === undefined &&
    node.param === undefined &&
    node.star === undefined &&
    node.globstar === undefined
  );
}

function* walk<T>(node: TrieNode<T>): IterableIterator<T> {
  if (node.methods !== undefined) for (const list of node.methods.values()) yield* list;
  if (node.statics !== undefined) for (const child of node.statics.values()) yield* walk(child);
  for (const child of [node.param, node.star, node.globstar]) if (child !== undefined) yield* walk(child);
}
