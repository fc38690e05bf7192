/** Test helper: ServiceInstance values without a registry, for balancer and selector tests. */
import type { ServiceInstance } from '../registry/model.js';

/** The time {@link makeInstance} registers at; instances expire an hour later. */
export const T0 = 1_700_000_000_000;

/** A live `UP` instance of `service` with id `instanceId`; `extra` overrides any field. */
export function makeInstance(
  service: string,
  instanceId: string,
  extra: Partial<ServiceInstance> = {},
): ServiceInstance {
  return {
    service,
    instanceId,
    url: `http://127.0.0.1:${7000 + (hashCode(instanceId) % 1000)}`,
    routes: [],
    weight: 1,
    metadata: {},
    registeredAt: T0,
    lastHeartbeat: T0,
    expiresAt: T0 + 3_600_000,
    status: 'UP',
    epoch: 1,
    ...extra,
  };
}

function hashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return h;
}
