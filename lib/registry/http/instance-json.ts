/**
 * The wire (snake_case, ISO dates) form of registry data, shared by `GET /internal/services`
 * and `GET /health`.
 */
import type { RoutePredicates } from '../../core/route-predicates.js';
import type { RouteSpec, ServiceInstance } from '../model.js';
import { isoTime } from './iso-time.js';

/** A route as it appears on the wire. */
export interface RouteJson {
  method: string;
  path: string;
  protocol?: 'http' | 'ws';
  public?: boolean;
  permission?: string;
  timeout_ms?: number;
  predicates?: RoutePredicates;
  gateways?: string[];
}

/** An instance as it appears on the wire. */
export interface InstanceJson {
  instance_id: string;
  url: string;
  status: ServiceInstance['status'];
  health_endpoint: string | null;
  routes: RouteJson[];
  weight: number;
  version: string | null;
  zone: string | null;
  metadata: Record<string, unknown>;
  registered_at: string;
  last_heartbeat: string;
  expires_at: string;
  epoch: number;
}

/**
 * Converts an instance to its wire form.
 * @example instanceToJson(registry.get('sagjan', 'a1')!).expires_at // '2025-11-14T20:31:30.000Z'
 */
export function instanceToJson(instance: ServiceInstance): InstanceJson {
  return {
    instance_id: instance.instanceId,
    url: instance.url,
    status: instance.status,
    health_endpoint: instance.healthEndpoint ?? null,
    routes: instance.routes.map(routeToJson),
    weight: instance.weight,
    version: instance.version ?? null,
    zone: instance.zone ?? null,
    metadata: instance.metadata,
    registered_at: isoTime(instance.registeredAt),
    last_heartbeat: isoTime(instance.lastHeartbeat),
    expires_at: isoTime(instance.expiresAt),
    epoch: instance.epoch,
  };
}

/** Converts a route to its wire form (absent optional fields stay absent). */
export function routeToJson(route: RouteSpec): RouteJson {
  const out: RouteJson = { method: route.method, path: route.path };
  if (route.protocol !== undefined) out.protocol = route.protocol;
  if (route.public !== undefined) out.public = route.public;
  if (route.permission !== undefined) out.permission = route.permission;
  if (route.timeoutMs !== undefined) out.timeout_ms = route.timeoutMs;
  if (route.predicates !== undefined) out.predicates = route.predicates;
  if (route.gateways !== undefined) out.gateways = route.gateways;
  return out;
}

/**
 * Groups instances by service, in first-seen order.
 * @example groupByService(registry.instances()).get('sagjan')?.length
 */
export function groupByService(instances: readonly ServiceInstance[]): Map<string, ServiceInstance[]> {
  const out = new Map<string, ServiceInstance[]>();
  for (const instance of instances) {
    const list = out.get(instance.service);
    if (list === undefined) out.set(instance.service, [instance]);
    else list.push(instance);
  }
  return out;
}
