/**
 * What the HealthChecker tests share: a registry on a fake clock and a probe the test steers.
 */
import { FakeClock } from '../clock.js';
import { MemoryBackend } from '../registry/backends/memory.js';
import { Registry } from '../registry/registry.js';
import type { Probe, ProbeTarget } from './probes.js';
/** A day in ms: leases that outlive the test. */
export const DAY = 86_400_000;

/** A registry on a fake clock whose leases outlive the test, plus a probe the test steers. */
export async function fleet() {
  const clock = new FakeClock(0);
  const backend = new MemoryBackend({ clock });
  const registry = new Registry({ backend, clock, ttlMs: DAY, ownsBackend: true });
  await registry.ready();
  const healthy = new Map<string, boolean>();
  const probes: { url: string; at: number }[] = [];
  const probe: Probe = async (target: ProbeTarget) => {
    probes.push({ url: target.url, at: clock.now() });
    const ok = healthy.get(target.url) ?? true;
    return ok ? { healthy: true, responseTimeMs: 3 } : { healthy: false, responseTimeMs: 1, error: 'ECONNREFUSED' };
  };
  const register = (instanceId: string, service = 'svc') =>
    registry.register({ service, instanceId, url: `http://${instanceId}.test`, healthEndpoint: '/health' });
  const probesOf = (id: string) => probes.filter((p) => p.url === `http://${id}.test`).map((p) => p.at);
  return { clock, registry, healthy, probes, probe, register, probesOf };
}

/** The status of instance `id` of service `svc`. */
export const statusOf = (registry: Registry, id: string) => registry.get('svc', id)?.status;
