/**
 * The fleet the scale benches register (bench/scale.ts, bench/memory-per-instance.ts,
 * bench/route-table-churn.ts, bench/route-lookup.ts): service `svc<s>` with five routes, its
 * instances `svc<s>-<i>`, in the library's form and in the registration API's wire form; and the
 * two-route fleet the store heartbeat benches register straight into a Registry.
 */
import type { RegistrationInput, RouteSpec } from '../../lib/registry/model.js';
import type { Registry } from '../../lib/registry/registry.js';

/** The five routes of service `s`: literal, parameter, trailing wildcard and catch-all shapes. */
export function routesOf(s: number): RouteSpec[] {
  return [
    { method: 'GET', path: `/api/svc${s}/items` },
    { method: 'POST', path: `/api/svc${s}/items` },
    { method: 'GET', path: `/api/svc${s}/items/:id` },
    { method: '*', path: `/api/svc${s}/items/:id/comments/*` },
    { method: 'GET', path: `/svc${s}/assets/**` },
  ];
}

/** Instance `i` of service `s`, as `registry.register()` takes it. */
export function registrationOf(s: number, i: number): RegistrationInput {
  return {
    service: `svc${s}`,
    instanceId: `svc${s}-${i}`,
    url: `http://127.0.0.1:${10_000 + i}`,
    healthEndpoint: '/health',
    routes: routesOf(s),
    metadata: { zone: 'a' },
  };
}

/** The same instance as the JSON body of `POST /internal/register-service`. */
export function registrationBody(s: number, i: number): string {
  const r = registrationOf(s, i);
  return JSON.stringify({
    service: r.service,
    instance_id: r.instanceId,
    url: r.url,
    health_endpoint: r.healthEndpoint,
    routes: r.routes,
    metadata: r.metadata,
  });
}

/**
 * Registers `instances` instances of two routes each, spread over `services` services, into
 * `registry`, 100 at a time (bench/store-heartbeat.ts, bench/store-heartbeat-gc.ts).
 */
export async function registerTwoRouteFleet(registry: Registry, instances: number, services: number): Promise<void> {
  for (let i = 0; i < instances; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, instances - i) }, (_, j) => {
        const n = i + j;
        const s = n % services;
        return registry.register({
          service: `svc${s}`,
          instanceId: `svc${s}-${n}`,
          url: `http://127.0.0.1:${10_000 + (n % 50_000)}`,
          routes: [
            { method: 'GET', path: `/api/svc${s}/items` },
            { method: 'GET', path: `/api/svc${s}/items/:id` },
          ],
          metadata: { zone: 'a' },
        });
      }),
    );
  }
}
