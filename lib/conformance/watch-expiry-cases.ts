/**
 * Conformance cases for time and change delivery: expiry on real short TTLs, watch order and
 * unsubscribe, the setStatus capability, and close().
 */
import assert from 'node:assert/strict';
import { isFleetgateError, isUnknownInstanceError } from '../errors.js';
import type { RegistryBackend } from '../registry/model.js';
import type { ConformanceCase } from './suite-context.js';
import { waitFor } from './wait-for.js';

function isClosedError(err: unknown): boolean {
  assert.ok(isFleetgateError(err, 'ERR_FG_CLOSED'), `expected ERR_FG_CLOSED, got ${String(err)}`);
  return true;
}

async function assertClosed(backend: RegistryBackend, svc: string): Promise<void> {
  const lease = { ttlMs: 60_000 };
  await assert.rejects(backend.register({ service: svc, url: 'http://127.0.0.1:1' }, lease), isClosedError);
  await assert.rejects(backend.heartbeat(svc, 'x', lease), isClosedError);
  await assert.rejects(backend.deregister(svc, 'x'), isClosedError);
  await assert.rejects(backend.get(svc, 'x'), isClosedError);
  await assert.rejects(backend.list(svc), isClosedError);
}

/** The watch, expiry, capability and lifecycle-end cases. */
export const watchExpiryCases: ConformanceCase[] = [
  {
    name: 'an instance not renewed within its TTL leaves get/list and one expire event is delivered',
    async run({ backend, service, input, record, ttlMs, expiryGraceMs }) {
      const svc = service();
      const rec = record();
      try {
        const kept = await backend.register(input(svc, { instanceId: 'kept' }), { ttlMs: 60_000 });
        const reg = await backend.register(input(svc, { instanceId: 'short' }), { ttlMs });
        assert.equal(reg.expiresAt - reg.lastHeartbeat <= ttlMs + 1000, true);
        const deadline = ttlMs + expiryGraceMs;
        await waitFor(async () => (await backend.get(svc, 'short')) === undefined, {
          timeoutMs: deadline,
          description: `get() to stop returning an instance with a ${ttlMs} ms TTL`,
        });
        assert.deepEqual(
          (await backend.list(svc)).map((i) => i.instanceId),
          [kept.instanceId],
        );
        await rec.until(
          (events) => events.some((e) => e.type === 'expire' && e.instanceId === 'short'),
          'an expire event for the expired instance',
          deadline,
        );
        const expires = rec.events.filter((e) => e.type === 'expire');
        assert.equal(expires.length, 1, 'exactly one expire event');
        assert.equal(expires[0]?.service, svc);
        await assert.rejects(backend.heartbeat(svc, 'short', { ttlMs }), isUnknownInstanceError);
      } finally {
        rec.stop();
      }
    },
  },
  {
    name: 'watch delivers register, heartbeat, deregister and expire in order, and stops after unsubscribe',
    async run({ backend, service, input, lease, record, ttlMs, expiryGraceMs }) {
      const svc = service();
      const rec = record();
      const sentinel = record();
      try {
        const reg = await backend.register(input(svc, { instanceId: 'w1' }), lease);
        await backend.heartbeat(svc, 'w1', lease);
        await backend.deregister(svc, 'w1');
        await backend.register(input(svc, { instanceId: 'w1' }), { ttlMs });
        const expected = ['register', 'heartbeat', 'deregister', 'register', 'expire'];
        await rec.until(
          (events) => events.filter((e) => e.type !== 'status').length >= expected.length,
          `events ${expected.join(', ')}`,
          ttlMs + expiryGraceMs,
        );
        const seen = rec.events.filter((e) => e.type !== 'status');
        assert.deepEqual(
          seen.map((e) => e.type),
          expected,
        );
        for (const e of seen) assert.deepEqual([e.service, e.instanceId], [svc, 'w1']);
        assert.equal(seen[0]?.instance?.url, reg.url, 'register events carry the instance');
        rec.stop();
        rec.stop(); // unsubscribing twice is harmless
        await backend.register(input(svc, { instanceId: 'after' }), lease);
        await sentinel.until(
          (events) => events.some((e) => e.instanceId === 'after'),
          'a still-subscribed watcher to see the next register',
        );
        assert.equal(rec.events.length, expected.length, 'no events after unsubscribe');
      } finally {
        rec.stop();
        sentinel.stop();
      }
    },
  },
  {
    name: 'setStatus round-trips, is watched, and resets on re-registration',
    needs: 'setStatus',
    async run({ backend, service, input, lease, record }) {
      assert.equal(typeof backend.setStatus, 'function', 'backend has no setStatus(); pass { setStatus: false }');
      const setStatus = backend.setStatus!.bind(backend);
      const svc = service();
      const rec = record();
      try {
        await backend.register(input(svc, { instanceId: 's1' }), lease);
        const down = await setStatus(svc, 's1', 'DOWN');
        assert.equal(down?.status, 'DOWN');
        assert.equal((await backend.get(svc, 's1'))?.status, 'DOWN');
        assert.equal((await backend.heartbeat(svc, 's1', lease)).status, 'DOWN', 'a heartbeat keeps the status');
        assert.equal(await setStatus(svc, 'nobody', 'DOWN'), undefined);
        await rec.until(
          (events) => events.some((e) => e.type === 'status' && e.instance?.status === 'DOWN'),
          'a status event',
        );
        assert.equal((await backend.register(input(svc, { instanceId: 's1' }), lease)).status, 'UP');
      } finally {
        rec.stop();
      }
    },
  },
  {
    name: 'close() resolves, is idempotent, and later operations reject with ERR_FG_CLOSED',
    async run({ backend, service, input, lease }) {
      const svc = service();
      await backend.register(input(svc), lease);
      await Promise.all([backend.close(), backend.close()]);
      await backend.close();
      await assertClosed(backend, svc);
      const unwatch = backend.watch(() => {});
      assert.equal(typeof unwatch, 'function', 'watch() after close still returns an unsubscribe function');
      unwatch();
    },
  },
  {
    name: '[Symbol.asyncDispose]() closes the backend',
    async run({ backend, service }) {
      await backend[Symbol.asyncDispose]();
      await assertClosed(backend, service());
      await backend.close();
    },
  },
];
