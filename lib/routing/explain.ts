/**
 * `GET /_fleetgate/explain`: what the gateway would do with a request, as JSON. Runs the same
 * steps as the proxy (normalise, match, candidates, selection) without sending anything.
 */

import type { InstanceStatus } from '../registry/model.js';
import type { RegistryApi } from '../registry/registry-api.js';
import { type BalancerName, createBalancer } from './balancers/index.js';
import { selectInstance } from './instance-selector.js';
import { resolveRequest } from './resolve-request.js';
import type { RouteTable } from './route-table.js';
import type { Balancer, ExclusionReason, InstanceHealthSignals, PickContext, RouteMatch } from './types.js';

/** Options of {@link explain}. */
export interface ExplainOptions {
  /**
   * The balancer to ask. A name builds a fresh one, so explaining never moves the live
   * balancer's counters; pass the live instance to see its next pick (and advance it). @default 'round-robin'
   */
  balancer?: Balancer | BalancerName;
  ctx?: PickContext;
  signals?: InstanceHealthSignals;
  /** ms since epoch: when given, instances whose lease ended by then are shown as excluded. @default the registry decides */
  now?: number;
  /** Panic threshold (lib/routing/instance-selector.ts); `0` is off. @default 0 */
  panicThreshold?: number;
}

/** One instance as shown by explain. */
export interface ExplainedInstance {
  instanceId: string;
  url: string;
  status: InstanceStatus;
  weight: number;
  version?: string;
}

/** The JSON answer of {@link explain}. */
export interface ExplainResult {
  method: string;
  /** The path as asked, query included. */
  path: string;
  /** The path after normalisation, or null when it was refused (see `error`). */
  normalizedPath: string | null;
  /** Why the path was refused (the proxy would answer 400). */
  error?: string;
  /** The reserved gateway path (lib/core/reserved-paths.ts) the request falls under: never forwarded. */
  reserved?: string;
  /**
   * The path's first segment names a live service, but an explicit route of another service takes
   * the request first: that service's `/{service}/…` name fallback is shadowed here.
   */
  nameFallbackShadowed?: { service: string; by: string | null; pattern: string };
  match: {
    pattern: string;
    service: string | null;
    target?: string;
    viaNameFallback: boolean;
    isStatic: boolean;
    params: Record<string, string>;
    upstreamPath: string;
  } | null;
  /** Live instances that serve the matched route. */
  candidates: ExplainedInstance[];
  /** Live instances of the service that do not (yet) register the matched route: a rolling deploy. */
  withoutRoute: ExplainedInstance[];
  excluded: { instanceId: string; reason: ExclusionReason }[];
  chosen?: { instanceId: string; url: string };
  /** True when the choice was made in panic mode (over unhealthy instances too). */
  panic: boolean;
  /** The panic threshold, present only when panic mode is on (opt-in). */
  panicThreshold?: number;
}

/**
 * Explains how a request would be routed.
 * @example
 * res.end(JSON.stringify(explain(table, registry, 'GET', '/api/comments/7')));
 */
export function explain(
  table: RouteTable,
  registry: RegistryApi,
  method: string,
  path: string,
  opts: ExplainOptions = {},
): ExplainResult {
  const base: Pick<ExplainResult, 'method' | 'path' | 'nameFallbackShadowed'> = { method: method.toUpperCase(), path };
  const empty = { match: null, candidates: [], withoutRoute: [], excluded: [], panic: false };
  const norm = resolveRequest(table, method, path);
  if (norm.kind === 'bad-path') return { ...base, normalizedPath: null, error: norm.reason, ...empty };
  if (norm.kind === 'reserved') return { ...base, normalizedPath: norm.path, reserved: norm.reserved, ...empty };
  if (norm.kind === 'no-route') return { ...base, normalizedPath: norm.path, ...empty };
  const hit = norm.match;
  const shadow = shadowedFallback(registry, norm.path, hit);
  if (shadow !== undefined) base.nameFallbackShadowed = shadow;

  const match: NonNullable<ExplainResult['match']> = {
    pattern: hit.pattern,
    service: hit.service ?? null,
    ...(hit.target === undefined ? {} : { target: hit.target }),
    viaNameFallback: hit.viaNameFallback,
    isStatic: hit.isStatic,
    params: hit.params,
    upstreamPath: hit.upstreamPath,
  };
  if (hit.service === undefined) return { ...base, normalizedPath: norm.path, ...empty, match };

  const serving = table.instancesFor(hit);
  const ids = new Set(serving.map((i) => i.instanceId));
  const balancer = typeof opts.balancer === 'object' ? opts.balancer : createBalancer(opts.balancer ?? 'round-robin');
  const selection = selectInstance(serving, {
    balancer,
    ctx: opts.ctx ?? {},
    ...(opts.signals === undefined ? {} : { signals: opts.signals }),
    ...(opts.panicThreshold === undefined ? {} : { panicThreshold: opts.panicThreshold }),
    ...(opts.now === undefined ? {} : { now: opts.now }),
    service: hit.service,
  });
  const chosen = selection.instance;
  return {
    ...base,
    normalizedPath: norm.path,
    match,
    candidates: serving.map(describe),
    withoutRoute: registry
      .instances(hit.service)
      .filter((i) => !ids.has(i.instanceId))
      .map(describe),
    excluded: selection.excluded,
    ...(chosen === undefined ? {} : { chosen: { instanceId: chosen.instanceId, url: chosen.url } }),
    panic: selection.panic,
    ...(opts.panicThreshold === undefined || opts.panicThreshold === 0 ? {} : { panicThreshold: opts.panicThreshold }),
  };
}

function describe(inst: {
  instanceId: string;
  url: string;
  status: InstanceStatus;
  weight: number;
  version?: string;
}): ExplainedInstance {
  return {
    instanceId: inst.instanceId,
    url: inst.url,
    status: inst.status,
    weight: inst.weight,
    ...(inst.version === undefined ? {} : { version: inst.version }),
  };
}

/** The live service whose name fallback `hit` (an explicit route of someone else) takes this path from. */
function shadowedFallback(
  registry: RegistryApi,
  path: string,
  hit: RouteMatch,
): ExplainResult['nameFallbackShadowed'] | undefined {
  if (hit.viaNameFallback) return undefined;
  let start = 0;
  while (path.charCodeAt(start) === 0x2f) start++;
  let end = path.indexOf('/', start);
  if (end < 0) end = path.length;
  const name = path.slice(start, end);
  if (name === '' || name === hit.service || registry.instances(name).length === 0) return undefined;
  return { service: name, by: hit.service ?? null, pattern: hit.pattern };
}
