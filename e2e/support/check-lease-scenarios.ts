/**
 * The "one gateway probes each instance" lease, as every store-backed `CheckLease` must behave:
 * one holder at a time, renew and release by the holder only, real expiry, and two health
 * checkers sharing it (one probes; the other takes over when it leaves). Registered inside the
 * caller's `describe`, once per store.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { CheckLease } from '../../lib/health/check-lease.js';
import { HealthChecker } from '../../lib/health/health-checker.js';
import type { Probe } from '../../lib/health/probes.js';
import { MemoryBackend } from '../../lib/registry/backends/memory.js';
import { Registry } from '../../lib/registry/registry.js';
import { waitUntil } from '../../sandbox/servers/wait.js';

/** How long the store may take to expire a short lease (etcd 3.4 rounds up to ~2 s). */
export interface CheckLeaseScenarioOptions {
  expiryTimeoutMs: number;
}

/** Registers the lease scenarios; `lease()` gives a fresh lease object on a fresh key space. */
export function checkLeaseScenarios(lease: () => CheckLease, options: CheckLeaseScenarioOptions): void {
  it('one holder at a time; renew and release by the holder only; expires on its own', async () => {
    const l = lease();
    assert.equal(await l.tryAcquire('svc/a/1', 'gw1', 300), true);
    assert.equal(await l.tryAcquire('svc/a/1', 'gw2', 300), false);
    assert.equal(await l.tryAcquire('svc/a/1', 'gw1', 60_000), true, 'renewed with a longer TTL');
    await l.release?.('svc/a/1', 'gw2');
    assert.equal(await l.tryAcquire('svc/a/1', 'gw2', 300), false, 'only the holder releases');
    await l.release?.('svc/a/1', 'gw1');
    assert.equal(await l.tryAcquire('svc/a/1', 'gw2', 200), true);
    await waitUntil(() => l.tryAcquire('svc/a/1', 'gw1', 200), {
      description: 'the lease to expire',
      timeoutMs: options.expiryTimeoutMs,
    });
  });

  it('two checkers sharing the lease: one probes, the other takes over when it leaves', async () => {
    const registry = new Registry({ backend: new MemoryBackend(), ownsBackend: true });
    await registry.ready();
    await registry.register({ service: 'svc', instanceId: 'x', url: 'http://127.0.0.1:1', healthEndpoint: '/health' });
    const shared = lease();
    const probes: string[] = [];
    const probe =
      (name: string): Probe =>
      async () => {
        probes.push(name);
        return { healthy: true, responseTimeMs: 0 };
      };
    const opts = { registry, lease: shared, intervalMs: 50, timeoutMs: 50 };
    const a = new HealthChecker({ ...opts, probe: probe('a'), holderId: 'a', random: () => 0 });
    const b = new HealthChecker({ ...opts, probe: probe('b'), holderId: 'b', random: () => 0.5 });
    try {
      a.start();
      b.start();
      await waitUntil(() => probes.length >= 6, { description: 'six probes', timeoutMs: 5000, intervalMs: 10 });
      assert.deepEqual(new Set(probes), new Set(['a']), `probes: ${probes.join('')}`);
      await a.close(); // releases its lease
      const before = probes.length;
      await waitUntil(() => probes.slice(before).includes('b'), {
        description: 'b to take over',
        timeoutMs: 5000,
        intervalMs: 10,
      });
    } finally {
      await a.close();
      await b.close();
      await registry.close();
    }
  });
}
