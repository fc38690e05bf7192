/**
 * A CORS policy (Fetch standard, CORS protocol) validated once: which origins, methods and
 * headers are allowed, what is exposed, credentials and the preflight cache time.
 */
import { FleetgateError } from '../errors.js';

/** Which origins may read responses. */
export type CorsOrigin = '*' | string | RegExp | readonly (string | RegExp)[] | ((origin: string) => boolean);

/** One CORS policy (global, or per route). */
export interface CorsPolicy {
  /** Allowed origins: `'*'`, an origin, a RegExp, a list of those, or a function. @default '*' */
  origin: CorsOrigin;
  /** Methods a preflight may ask for. @default ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'] */
  methods: readonly string[];
  /** Request headers a preflight may ask for; `undefined` allows what it asks. @default undefined */
  allowedHeaders: readonly string[] | undefined;
  /** Response headers scripts may read. @default [] */
  exposedHeaders: readonly string[];
  /** Allow cookies and `Authorization` (needs explicit origins, never `'*'`). @default false */
  credentials: boolean;
  /** How long a browser may cache a preflight answer, in seconds. @default 600 */
  maxAgeSeconds: number;
}

/** Defaults of {@link CorsPolicy}. Frozen. */
export const CORS_POLICY_DEFAULTS: Readonly<CorsPolicy> = Object.freeze({
  origin: '*',
  methods: Object.freeze(['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE']),
  allowedHeaders: undefined,
  exposedHeaders: Object.freeze([]) as readonly string[],
  credentials: false,
  maxAgeSeconds: 600,
});

/** A validated policy, ready for requests. */
export interface CompiledCorsPolicy {
  /** The origin to answer for `origin`, or `undefined` when it is not allowed. */
  allow(origin: string): string | undefined;
  /** Whether `Vary: Origin` must be sent (the answer depends on the origin). */
  readonly varies: boolean;
  readonly methods: ReadonlySet<string>;
  readonly methodsHeader: string;
  readonly allowedHeaders: ReadonlySet<string> | undefined;
  readonly allowedHeadersHeader: string | undefined;
  readonly exposedHeader: string | undefined;
  readonly credentials: boolean;
  readonly maxAge: string;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Validates a policy.
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` naming `source` and the field.
 * @example compileCorsPolicy({ ...CORS_POLICY_DEFAULTS, origin: ['https://app.example'] }, 'cors')
 */
export function compileCorsPolicy(p: CorsPolicy, source: string): CompiledCorsPolicy {
  const bad = (field: string, value: unknown, why = ''): never => {
    throw new FleetgateError(
      'ERR_FG_INVALID_CONFIG',
      `${source}: invalid ${field} ${JSON.stringify(String(value))}${why}`,
      {
        details: { option: `${source}.${field}`, value: String(value) },
      },
    );
  };
  const tokens = (field: string, list: readonly string[]): string[] => {
    if (!Array.isArray(list)) bad(field, list);
    for (const v of list) if (typeof v !== 'string' || !TOKEN.test(v)) bad(field, v);
    return [...list];
  };
  const methods = tokens('methods', p.methods).map((m) => m.toUpperCase());
  const allowed = p.allowedHeaders === undefined ? undefined : tokens('allowedHeaders', p.allowedHeaders);
  const exposed = tokens('exposedHeaders', p.exposedHeaders);
  if (!(Number.isInteger(p.maxAgeSeconds) && p.maxAgeSeconds >= 0)) bad('maxAgeSeconds', p.maxAgeSeconds);
  if (typeof p.credentials !== 'boolean') bad('credentials', p.credentials);
  if (p.credentials && p.origin === '*') {
    bad('origin', '*', ': with credentials list the origins (browsers refuse "*" with credentials)');
  }
  let allow: (origin: string) => string | undefined;
  let varies = true;
  const o = p.origin;
  if (o === '*') {
    allow = () => '*';
    varies = false;
  } else if (typeof o === 'function') {
    allow = (origin) => (o(origin) ? origin : undefined);
  } else {
    const list = Array.isArray(o) ? o : [o as string | RegExp];
    const exact = new Set<string>();
    const patterns: RegExp[] = [];
    for (const entry of list) {
      if (entry instanceof RegExp) patterns.push(entry);
      else if (typeof entry === 'string' && URL.canParse(entry) && new URL(entry).origin === entry) exact.add(entry);
      else bad('origin', entry, ' (an origin is scheme://host[:port], no path)');
    }
    allow = (origin) => (exact.has(origin) || patterns.some((r) => r.test(origin)) ? origin : undefined);
  }
  return {
    allow,
    varies,
    methods: new Set(methods),
    methodsHeader: methods.join(', '),
    allowedHeaders: allowed === undefined ? undefined : new Set(allowed.map((h) => h.toLowerCase())),
    allowedHeadersHeader: allowed?.join(', '),
    exposedHeader: exposed.length === 0 ? undefined : exposed.join(', '),
    credentials: p.credentials,
    maxAge: String(p.maxAgeSeconds),
  };
}
