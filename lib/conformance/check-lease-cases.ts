/**
 * The cases every `CheckLease` (lib/health/check-lease.ts) must pass: the interface, one holder
 * at a time with renewal by the holder, release by the holder only, expiry on its own, exactly one
 * winner among concurrent acquirers, and two health checkers sharing it (one probes; the other
 * takes over when the first leaves).
 */
import assert from 'node:assert/strict';
import type { CheckLease } from '../health/check-lease.js';
import { HealthChecker } from '../health/health-checker.js';
import type { Probe } from '../health/probes.js';
import { MemoryBackend } from '../registry/backends/memory.js';
import { Registry } from '../registry/registry.js';
import { waitFor } from './wait-for.js';

/** What one check lease case receives. */
export interface CheckLeaseCaseContext {
  /** A fresh lease object (the suite builds one per case). */
  lease: CheckLease;
  /** A lease key unique to this case, so cases can share one real store. */
  key(label?: string): string;
  /** The short TTL the expiry case lets lapse, in ms. */
  ttlMs: number;
  /** How long the store may take to expire a `ttlMs` lease, in ms. */
  expiryTimeoutMs: number;
  /** Deadline of the case, in ms. */
  timeoutMs: number;
}

/** One check lease case. */
export interface CheckLeaseCase {
  name: string;
  /** `release` when the case needs the optional `release()`; skipped for leases without it. */
  needs?: 'release';
  run(ctx: CheckLeaseCaseContext): Promise<void>;
}

/** Long enough never to lapse within a case. */
const LONG_MS = 60_000;

/** The check lease cases, in order ("implements the interface" first). */
export const checkLeaseCases: readonly CheckLeaseCase[] = Object.freeze([
  {
    name: 'implements the interface',
    async run({ lease }) {
      assert.equal(typeof lease.tryAcquire, 'function', 'tryAcquire() is a function');
      assert.ok(['undefined', 'function'].includes(typeof lease.release), 'release is absent or a function');
    },
  },
  {
    name: 'one holder at a time; the holder renews; leases are per key',
    async run({ lease, key }) {
      const a = key('a');
      const b = key('b');
      assert.equal(await lease.tryAcquire(a, 'gw1', LONG_MS), true, 'a free key is taken');
      assert.equal(await lease.tryAcquire(a, 'gw2', LONG_MS), false, 'held by gw1');
      assert.equal(await lease.tryAcquire(a, 'gw1', LONG_MS), true, 'the holder renews');
      assert.equal(await lease.tryAcquire(a, 'gw2', LONG_MS), false, 'still held by gw1 after renewing');
      assert.equal(await lease.tryAcquire(b, 'gw2', LONG_MS), true, 'another key is free');
    },
  },
  {
    name: 'release gives the lease up, by the holder only',
    needs: 'release',
    async run({ lease, key }) {
      const a = key();
      assert.equal(await lease.tryAcquire(a, 'gw1', LONG_MS), true);
      await lease.release?.(a, 'gw2');
      assert.equal(await lease.tryAcquire(a, 'gw2', LONG_MS), false, 'a non-holder release changes nothing');
      await lease.release?.(a, 'gw1');
      assert.equal(await lease.tryAcquire(a, 'gw2', LONG_MS), true, 'free once the holder released it');
      await lease.release?.(key('never-taken'), 'gw1'); // releasing a free key is harmless
    },
  },
  {
    name: 'a lease lapses on its own after its TTL',
    async run({ lease, key, ttlMs, expiryTimeoutMs }) {
      const a = key();
      assert.equal(await lease.tryAcquire(a, 'gw1', ttlMs), true);
      assert.equal(await lease.tryAcquire(a, 'gw2', ttlMs), false);
      await waitFor(() => lease.tryAcquire(a, 'gw2', LONG_MS), {
        timeoutMs: expiryTimeoutMs,
        intervalMs: 25,
        description: `a ${ttlMs} ms lease to lapse`,
      });
      assert.equal(await lease.tryAcquire(a, 'gw1', LONG_MS), false, 'the new holder keeps it');
    },
  },
  {
    name: 'concurrent acquirers of one key: exactly one wins',
    async run({ lease, key }) {
      const a = key();
      const won = await Promise.all(Array.from({ length: 12 }, (_, i) => lease.tryAcquire(a, `gw${i}`, LONG_MS)));
      assert.equal(won.filter(Boolean).length, 1, `winners: ${won.map((w, i) => (w ? `gw${i}` : '')).join(' ')}`);
    },
  },
  {
    name: 'two health checkers sharing the lease: one probes, the other takes over when it leaves',
    async run({ lease, key, ttlMs, expiryTimeoutMs }) {
      const registry = new Registry({ backend: new MemoryBackend(), ownsBackend: true });
      await registry.ready();
      // The service name is unique to the case: the checkers' lease keys derive from it.
      const service = key('svc')
        .replace(/[^a-z0-9-]/gi, '-')
        .toLowerCase();
      await registry.register({ service, instanceId: 'x', url: 'http://127.0.0.1:1', healthEndpoint: '/health' });
      const probes: string[] = [];
      const probe =
        (name: string): Probe =>
        async () => {
          probes.push(name);
          return { healthy: true, responseTimeMs: 0 };
        };
      // The holder's lease lasts two intervals plus the timeout: 150 ms intervals ride out a
      // 400 ms stall of a loaded machine's event loop without the other checker taking over.
      const intervalMs = Math.min(150, ttlMs);
      const opts = { registry, lease, intervalMs, timeoutMs: intervalMs };
      const a = new HealthChecker({ ...opts, probe: probe('a'), holderId: 'a', random: () => 0 });
      const b = new HealthChecker({ ...opts, probe: probe('b'), holderId: 'b', random: () => 0.5 });
      try {
        a.start();
        b.start();
        await waitFor(() => probes.length >= 6, { description: 'six probes', timeoutMs: 5000, intervalMs: 10 });
        // Either may win the first race for the lease; from then on only the winner probes.
        const first = probes[0] === 'a' ? a : b;
        const other = first === a ? 'b' : 'a';
        assert.deepEqual(new Set(probes), new Set([probes[0]]), `one checker probes: ${probes.join('')}`);
        await first.close(); // releases its lease when the lease can; otherwise it lapses
        const before = probes.length;
        await waitFor(() => probes.slice(before).includes(other), {
          description: `${other} to take over`,
          timeoutMs: expiryTimeoutMs + 5000,
          intervalMs: 10,
        });
      } finally {
        await a.close();
        await b.close();
        await registry.close();
      }
    },
  },
]);
