/**
 * The fleet file: which fake services `gw-sandbox up` starts, how the gateways are tuned and how
 * the supervisor treats crashes. YAML, validated with zod; every error names the file, the
 * field path and, for YAML syntax errors, the line.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../lib/config/duration.js';
import { FleetgateError } from '../lib/errors.js';

/** A latency range in ms; a fixed latency has `min === max`. */
export interface LatencyRange {
  minMs: number;
  maxMs: number;
}

/** A route as the sandbox writes it. */
export interface FleetRoute {
  method: string;
  path: string;
}

/** One fake service of the fleet. */
export interface FleetService {
  name: string;
  instances: number;
  routes: FleetRoute[];
  latency: LatencyRange;
  /** Share of requests answered 500 on purpose, in [0, 1]. */
  errorRate: number;
  /** Bytes of filler added to every JSON answer. */
  payloadBytes: number;
}

/** The parsed, validated fleet file with every default applied. */
export interface Fleet {
  gateway: {
    /** How many gateway processes (`--gateways` overrides). */
    count: number;
    /** First gateway port; 0 picks free ports. */
    port: number;
    ttlMs: number;
    healthIntervalMs: number;
    healthTimeoutMs: number;
    healthMaxFailures: number;
    /** Extra environment for every gateway process. */
    env: Record<string, string>;
  };
  dashboard: { port: number };
  supervisor: {
    /** Restart fake services that die without being asked to. */
    restartCrashed: boolean;
    restartDelayMs: number;
  };
  services: FleetService[];
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', '*'] as const;

const duration = (what: string) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `${what}: expected a duration like 500ms, 5s or 2m, got ${JSON.stringify(v)}`,
      });
      return z.NEVER;
    }
    return ms;
  });

const latency = z
  .union([z.number(), z.string(), z.object({ min: duration('min'), max: duration('max') })])
  .transform((v, ctx): LatencyRange => {
    if (typeof v === 'object') return { minMs: v.min, maxMs: Math.max(v.min, v.max) };
    if (typeof v === 'number') return { minMs: v, maxMs: v };
    // "5-20ms", "5ms-20ms", "10ms"
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*(?:-\s*(\d+(?:\.\d+)?)\s*(ms|s)?)?\s*$/.exec(v);
    if (!m) {
      ctx.addIssue({ code: 'custom', message: `expected a latency like 10ms or 5-20ms, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    const unitHi = m[4] ?? m[2] ?? 'ms';
    const unitLo = m[2] ?? unitHi;
    const lo = parseDuration(`${m[1]}${unitLo}`) ?? 0;
    const hi = m[3] === undefined ? lo : (parseDuration(`${m[3]}${unitHi}`) ?? lo);
    return { minMs: Math.min(lo, hi), maxMs: Math.max(lo, hi) };
  });

const route = z
  .union([z.string(), z.object({ method: z.string().default('*'), path: z.string() })])
  .transform((v, ctx): FleetRoute => {
    const [method, path] = typeof v === 'string' ? splitRoute(v) : [v.method.toUpperCase(), v.path];
    if (!(METHODS as readonly string[]).includes(method)) {
      ctx.addIssue({
        code: 'custom',
        message: `unknown HTTP method ${JSON.stringify(method)} (use ${METHODS.join(', ')})`,
      });
      return z.NEVER;
    }
    if (!path.startsWith('/')) {
      ctx.addIssue({ code: 'custom', message: `a route path must start with '/', got ${JSON.stringify(path)}` });
      return z.NEVER;
    }
    return { method, path };
  });

function splitRoute(s: string): [string, string] {
  const parts = s.trim().split(/\s+/);
  return parts.length === 1 ? ['*', parts[0] ?? ''] : [(parts[0] ?? '').toUpperCase(), parts.slice(1).join(' ')];
}

const serviceName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,39}$/, 'a service name is lower case letters, digits and dashes, starting with a letter');

const serviceSchema = z
  .object({
    name: serviceName,
    instances: z.number().int().min(0).max(50).default(1),
    routes: z.array(route).min(1, 'give the service at least one route'),
    latency: latency.default({ minMs: 0, maxMs: 0 }),
    errorRate: z.number().min(0).max(1).default(0),
    payload: z.number().int().min(0).max(1_000_000).default(0),
  })
  .strict()
  .transform(
    (s): FleetService => ({
      name: s.name,
      instances: s.instances,
      routes: s.routes,
      latency: s.latency,
      errorRate: s.errorRate,
      payloadBytes: s.payload,
    }),
  );

const fleetSchema = z
  .object({
    gateway: z
      .object({
        count: z.number().int().min(1).max(9).default(1),
        port: z.number().int().min(0).max(65535).default(0),
        ttl: duration('ttl').default(5000),
        healthInterval: duration('healthInterval').default(1000),
        healthTimeout: duration('healthTimeout').default(500),
        healthMaxFailures: z.number().int().min(1).max(100).default(2),
        env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
      })
      .strict()
      .default({
        count: 1,
        port: 0,
        ttl: 5000,
        healthInterval: 1000,
        healthTimeout: 500,
        healthMaxFailures: 2,
        env: {},
      }),
    dashboard: z
      .object({ port: z.number().int().min(0).max(65535).default(0) })
      .strict()
      .default({ port: 0 }),
    supervisor: z
      .object({
        restartCrashed: z.boolean().default(true),
        restartDelay: duration('restartDelay').default(3000),
      })
      .strict()
      .default({ restartCrashed: true, restartDelay: 3000 }),
    services: z.array(serviceSchema).min(1, 'the fleet needs at least one service'),
  })
  .strict()
  .superRefine((f, ctx) => {
    const seen = new Set<string>();
    f.services.forEach((s, i) => {
      if (seen.has(s.name))
        ctx.addIssue({ code: 'custom', path: ['services', i, 'name'], message: `duplicate service ${s.name}` });
      seen.add(s.name);
    });
  });

/**
 * Parses and validates fleet YAML text.
 * @param source a name for messages (usually the file path).
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` listing every problem with its field path.
 * @example parseFleet('services:\n  - name: orders\n    routes: ["GET /api/orders/**"]\n')
 */
export function parseFleet(text: string, source = 'fleet file'): Fleet {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => `  - ${(e.message.split('\n')[0] ?? '').replace(/:$/, '')}`);
    throw invalid(source, lines);
  }
  const result = fleetSchema.safeParse(doc.toJS() ?? {});
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const where = issue.path.length === 0 ? '(top level)' : formatPath(issue.path);
      return `  - ${where}: ${issue.message}`;
    });
    throw invalid(source, lines);
  }
  const f = result.data;
  return {
    gateway: {
      count: f.gateway.count,
      port: f.gateway.port,
      ttlMs: f.gateway.ttl,
      healthIntervalMs: f.gateway.healthInterval,
      healthTimeoutMs: f.gateway.healthTimeout,
      healthMaxFailures: f.gateway.healthMaxFailures,
      env: f.gateway.env,
    },
    dashboard: { port: f.dashboard.port },
    supervisor: { restartCrashed: f.supervisor.restartCrashed, restartDelayMs: f.supervisor.restartDelay },
    services: f.services,
  };
}

/**
 * Reads and validates a fleet file.
 * @throws FleetgateError `ERR_FG_INVALID_CONFIG` when it cannot be read or is invalid.
 */
export function loadFleetFile(path: string): Fleet {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new FleetgateError('ERR_FG_INVALID_CONFIG', `cannot read fleet file ${path}: ${(err as Error).message}`, {
      cause: err,
      details: { file: path },
    });
  }
  return parseFleet(text, path);
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc === '' ? String(p) : `${acc}.${String(p)}`),
    '',
  );
}

function invalid(source: string, lines: string[]): FleetgateError {
  return new FleetgateError('ERR_FG_INVALID_CONFIG', `${source} is invalid:\n${lines.join('\n')}`, {
    details: { file: source, problems: lines.map((l) => l.replace(/^ {2}- /, '')) },
  });
}

/** Instance names of a service: `orders-1`, `orders-2`, … */
export function instanceName(service: string, index: number): string {
  return `${service}-${index}`;
}
