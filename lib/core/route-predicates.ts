/**
 * Route predicates beyond method and path (docs/predicates.md): host (with `*.` wildcards), header,
 * query parameter and verified JWT claim, each exact, by a safe regex (lib/core/safe-regex.ts) or
 * present. All listed conditions must hold; `hosts` is a list of alternatives. Compiled once, at
 * configuration or registration, into a test the route table runs only on routes that carry
 * predicates, and into a canonical key so equal predicates are one route.
 */
import { requestClaims } from './request-claims.js';
import { checkSafeRegex, testSafeRegex } from './safe-regex.js';

/** One condition on a header, query parameter or claim. Neither `value` nor `regex`: it must be present. */
export interface ValueCondition {
  /** Header name (any case), query parameter name, or claim name (`a.b` reads a nested claim). */
  name: string;
  /** Exact value. For a claim holding an array: one of its elements. */
  value?: string;
  /** A safe regular expression (lib/core/safe-regex.ts) the value must match. */
  regex?: string;
}

/** Conditions a request must meet, besides method and path, to take a route. */
export interface RoutePredicates {
  /** Any of these hosts (the `Host` header, port ignored, any case); `*.example.com` matches any subdomain. */
  hosts?: string[];
  /** Every one of these headers (several values of one header are joined with `, `). */
  headers?: ValueCondition[];
  /** Every one of these query parameters (the first occurrence of each name counts). */
  query?: ValueCondition[];
  /** Every one of these claims of the verified token (lib/core/request-claims.ts); no token: no match. */
  claims?: ValueCondition[];
}

/** The bounds on predicates. Frozen. */
export const PREDICATE_LIMITS = Object.freeze({
  /** Most hosts, and most conditions of each kind. @default 16 */
  maxItems: 16,
  /** Most characters in a host pattern. @default 253 */
  maxHostLength: 253,
  /** Most characters in a condition's name. @default 128 */
  maxNameLength: 128,
  /** Most characters in an exact value. @default 256 */
  maxValueLength: 256,
});

/** What a predicate test reads of a request. */
export interface PredicateRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** Predicates ready to test. */
export interface CompiledPredicates {
  /** Canonical text: equal predicates have equal keys. */
  readonly key: string;
  /** The predicates as given, normalised (header names and hosts lower case). */
  readonly spec: RoutePredicates;
  /** Whether `req` (with `query`, its query string including `?` or `''`) meets every condition. */
  test(req: PredicateRequest, query: string): boolean;
}

/** Why predicates were refused: where (`headers[1].regex`) and why. */
export interface PredicateProblem {
  readonly problem: true;
  readonly at: string;
  readonly reason: string;
}

/** Type guard for {@link PredicateProblem}. */
export function isPredicateProblem(x: CompiledPredicates | PredicateProblem): x is PredicateProblem {
  return (x as PredicateProblem).problem === true;
}

const HOST = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const PARAM_NAME = /^[^\s\p{Cc}&=#]+$/u;
const VALUE = /^[^\p{Cc}]*$/u;

/**
 * Validates and compiles predicates; `undefined` for none (absent or all lists empty).
 * @example
 * const p = compilePredicates({ headers: [{ name: 'X-Beta', value: 'true' }] });
 * if (p !== undefined && !isPredicateProblem(p)) p.test(req, '');
 */
export function compilePredicates(
  input: RoutePredicates | undefined,
): CompiledPredicates | PredicateProblem | undefined {
  if (input === undefined) return undefined;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return problem('', 'must be an object');
  for (const k of Object.keys(input)) {
    if (k !== 'hosts' && k !== 'headers' && k !== 'query' && k !== 'claims') return problem(k, 'unknown predicate');
  }
  const spec: RoutePredicates = {};
  const tests: ((req: PredicateRequest, query: string) => boolean)[] = [];
  if (input.hosts !== undefined && input.hosts.length > 0) {
    if (!Array.isArray(input.hosts)) return problem('hosts', 'must be a list');
    if (input.hosts.length > PREDICATE_LIMITS.maxItems) return problem('hosts', `at most ${PREDICATE_LIMITS.maxItems}`);
    const hosts: string[] = [];
    for (let i = 0; i < input.hosts.length; i++) {
      const h = input.hosts[i];
      if (typeof h !== 'string' || h.length > PREDICATE_LIMITS.maxHostLength || !HOST.test(h.toLowerCase())) {
        return problem(`hosts[${i}]`, 'must be a host name, optionally starting with "*."');
      }
      hosts.push(h.toLowerCase());
    }
    spec.hosts = [...new Set(hosts)].sort();
    tests.push(hostTest(spec.hosts));
  }
  for (const kind of ['headers', 'query', 'claims'] as const) {
    const list = input[kind];
    if (list === undefined || (Array.isArray(list) && list.length === 0)) continue;
    if (!Array.isArray(list)) return problem(kind, 'must be a list');
    if (list.length > PREDICATE_LIMITS.maxItems) return problem(kind, `at most ${PREDICATE_LIMITS.maxItems}`);
    const conditions: ValueCondition[] = [];
    for (let i = 0; i < list.length; i++) {
      const c = normaliseCondition(kind, list[i], `${kind}[${i}]`);
      if ('problem' in c) return c;
      conditions.push(c);
    }
    conditions.sort((a, b) => (conditionKey(a) < conditionKey(b) ? -1 : 1));
    spec[kind] = conditions;
    for (const c of conditions) tests.push(conditionTest(kind, c));
  }
  if (tests.length === 0) return undefined;
  const key = JSON.stringify([spec.hosts ?? [], spec.headers ?? [], spec.query ?? [], spec.claims ?? []]);
  const test =
    tests.length === 1
      ? tests[0]!
      : (req: PredicateRequest, query: string): boolean => {
          for (let i = 0; i < tests.length; i++) if (!tests[i]!(req, query)) return false;
          return true;
        };
  return Object.freeze({ key, spec: Object.freeze(spec), test });
}

/**
 * Whether no request can meet both `a` and `b`, provably: both name hosts and no host of one can
 * be a host of the other, or both need the same header or query parameter with exact values that
 * differ (or an exact value the other's regex refuses). Claims never prove disjointness (a claim
 * may be an array holding both values). `undefined` means no predicates: it meets everything.
 * @example predicatesDisjoint(compiled({ headers: [{ name: 'x-v', value: '1' }] }), compiled({ headers: [{ name: 'x-v', value: '2' }] })) // true
 */
export function predicatesDisjoint(a: CompiledPredicates | undefined, b: CompiledPredicates | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const ha = a.spec.hosts;
  const hb = b.spec.hosts;
  if (ha !== undefined && hb !== undefined && ha.every((x) => hb.every((y) => hostsDisjoint(x, y)))) return true;
  return conditionsDisjoint(a.spec.headers, b.spec.headers) || conditionsDisjoint(a.spec.query, b.spec.query);
}

function problem(at: string, reason: string): PredicateProblem {
  return { problem: true, at, reason };
}

function normaliseCondition(
  kind: 'headers' | 'query' | 'claims',
  raw: unknown,
  at: string,
): ValueCondition | PredicateProblem {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return problem(at, 'must be an object');
  const c = raw as Record<string, unknown>;
  for (const k of Object.keys(c))
    if (k !== 'name' && k !== 'value' && k !== 'regex') return problem(`${at}.${k}`, 'unknown field');
  const { name, value, regex } = c;
  if (typeof name !== 'string' || name.length === 0 || name.length > PREDICATE_LIMITS.maxNameLength) {
    return problem(`${at}.name`, `must be 1 to ${PREDICATE_LIMITS.maxNameLength} characters`);
  }
  const lower = kind === 'headers' ? name.toLowerCase() : name;
  if (kind === 'headers' ? !HEADER_NAME.test(lower) : !PARAM_NAME.test(name)) {
    return problem(
      `${at}.name`,
      kind === 'headers' ? 'must be a header name' : 'must not hold spaces, control characters, &, = or #',
    );
  }
  if (value !== undefined && regex !== undefined) return problem(at, 'give value or regex, not both');
  const out: ValueCondition = { name: lower };
  if (value !== undefined) {
    if (typeof value !== 'string' || value.length > PREDICATE_LIMITS.maxValueLength || !VALUE.test(value)) {
      return problem(
        `${at}.value`,
        `must be a string of at most ${PREDICATE_LIMITS.maxValueLength} characters without control characters`,
      );
    }
    out.value = value;
  }
  if (regex !== undefined) {
    if (typeof regex !== 'string') return problem(`${at}.regex`, 'must be a string');
    const why = checkSafeRegex(regex);
    if (why !== undefined) return problem(`${at}.regex`, why);
    out.regex = regex;
  }
  return out;
}

function conditionKey(c: ValueCondition): string {
  return `${c.name}\0${c.value ?? ''}\0${c.regex ?? ''}`;
}

/** A test of one value: exact, regex or present. */
function valueTest(c: ValueCondition): (v: string) => boolean {
  if (c.value !== undefined) {
    const want = c.value;
    return (v) => v === want;
  }
  if (c.regex !== undefined) {
    const re = new RegExp(c.regex);
    return (v) => testSafeRegex(re, v);
  }
  return () => true;
}

function conditionTest(
  kind: 'headers' | 'query' | 'claims',
  c: ValueCondition,
): (req: PredicateRequest, query: string) => boolean {
  const ok = valueTest(c);
  const name = c.name;
  if (kind === 'headers') {
    return (req) => {
      const v = req.headers[name];
      if (v === undefined) return false;
      return ok(typeof v === 'string' ? v : v.join(', '));
    };
  }
  if (kind === 'query') {
    return (_req, query) => {
      const v = queryParam(query, name);
      return v !== undefined && ok(v);
    };
  }
  const path = name.split('.');
  return (req) => {
    let v: unknown = requestClaims(req);
    for (const part of path) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
      v = (v as Record<string, unknown>)[part];
    }
    if (Array.isArray(v)) return v.some((e) => isScalar(e) && ok(String(e)));
    return isScalar(v) && ok(String(v));
  };
}

function isScalar(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/**
 * The first value of parameter `name` in `query` (`?a=1&b`), decoded (`+` is a space); `''` when
 * it appears without `=`; `undefined` when absent or not decodable.
 */
export function queryParam(query: string, name: string): string | undefined {
  if (query.length < 2) return undefined;
  let start = 1;
  while (start < query.length) {
    let end = query.indexOf('&', start);
    if (end < 0) end = query.length;
    const eq = query.indexOf('=', start);
    const nameEnd = eq >= 0 && eq < end ? eq : end;
    if (decodePart(query.slice(start, nameEnd)) === name) {
      return nameEnd === end ? '' : decodePart(query.slice(nameEnd + 1, end));
    }
    start = end + 1;
  }
  return undefined;
}

function decodePart(s: string): string | undefined {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  try {
    return decodeURIComponent(s.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

function hostTest(hosts: readonly string[]): (req: PredicateRequest) => boolean {
  return (req) => {
    const raw = req.headers.host;
    if (typeof raw !== 'string') return false;
    const host = hostOnly(raw);
    for (const h of hosts) {
      if (h.startsWith('*.') ? host.length > h.length - 1 && host.endsWith(h.slice(1)) : host === h) return true;
    }
    return false;
  };
}

/** The host of a `Host` header, lower case, without port (`[::1]:80` → `[::1]`). */
function hostOnly(raw: string): string {
  const h = raw.toLowerCase();
  if (h.startsWith('[')) {
    const close = h.indexOf(']');
    return close < 0 ? h : h.slice(0, close + 1);
  }
  const colon = h.indexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

function hostsDisjoint(x: string, y: string): boolean {
  const wx = x.startsWith('*.');
  const wy = y.startsWith('*.');
  if (!wx && !wy) return x !== y;
  if (wx && wy) return !x.slice(1).endsWith(y.slice(1)) && !y.slice(1).endsWith(x.slice(1));
  const [exact, wild] = wx ? [y, x] : [x, y];
  return !(exact.length > wild.length - 1 && exact.endsWith(wild.slice(1)));
}

function conditionsDisjoint(
  a: readonly ValueCondition[] | undefined,
  b: readonly ValueCondition[] | undefined,
): boolean {
  if (a === undefined || b === undefined) return false;
  for (const x of a) {
    for (const y of b) {
      if (x.name !== y.name) continue;
      if (x.value !== undefined && y.value !== undefined && x.value !== y.value) return true;
      if (x.value !== undefined && y.regex !== undefined && !testSafeRegex(new RegExp(y.regex), x.value)) return true;
      if (y.value !== undefined && x.regex !== undefined && !testSafeRegex(new RegExp(x.regex), y.value)) return true;
    }
  }
  return false;
}

const compiledOf = new WeakMap<object, CompiledPredicates | PredicateProblem | undefined>();

/**
 * {@link compilePredicates}, remembered per predicates object (routes keep theirs for their whole
 * life, so a route table rebuild or a claim check never compiles the same predicates twice).
 */
export function cachedPredicates(
  input: RoutePredicates | undefined,
): CompiledPredicates | PredicateProblem | undefined {
  if (input === undefined || typeof input !== 'object' || input === null) return compilePredicates(input);
  if (compiledOf.has(input)) return compiledOf.get(input);
  const compiled = compilePredicates(input);
  compiledOf.set(input, compiled);
  return compiled;
}
