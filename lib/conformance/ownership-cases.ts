/**
 * Conformance cases for instance ownership (README "Registry backends", Ownership): a registration stores the
 * SHA-256 of its instance token; heartbeat, deregister, status changes and re-registration of a
 * live id need it; a lapsed id is free again; the token works from any backend on the same store.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { isFleetgateError, isUnknownInstanceError } from '../errors.js';
import type { OwnerProof, RegisterOwnership } from '../registry/model.js';
import type { ConformanceCase } from './suite-context.js';
import { waitFor } from './wait-for.js';

/** A token and its hash, made here so the suite depends on no fleetgate internals. */
function token(): { token: string; hash: string } {
  const t = randomBytes(32).toString('base64url');
  return { token: t, hash: createHash('sha256').update(t).digest('hex') };
}

function owner(hash: string, extra: Partial<RegisterOwnership> = {}): RegisterOwnership {
  return { newTokenHash: hash, reclaim: 'none', ...extra };
}

const notOwner = (err: unknown): boolean => {
  assert.ok(isFleetgateError(err, 'ERR_FG_NOT_OWNER'), `expected ERR_FG_NOT_OWNER, got ${String(err)}`);
  return true;
};

/** The ownership cases. */
export const ownershipCases: ConformanceCase[] = [
  {
    name: 'ownership: heartbeat and deregister need the instance token; the record never shows',
    async run({ backend, service, input, lease }) {
      const svc = service();
      const a = token();
      const reg = await backend.register(
        input(svc, { instanceId: 'own-1' }),
        lease,
        owner(a.hash, { source: '10.0.0.9' }),
      );
      const missing: OwnerProof = {};
      const wrong: OwnerProof = { tokenHash: token().hash };
      await assert.rejects(backend.heartbeat(svc, 'own-1', lease, missing), notOwner);
      await assert.rejects(backend.heartbeat(svc, 'own-1', lease, wrong), notOwner);
      await assert.rejects(backend.deregister(svc, 'own-1', missing), notOwner);
      await assert.rejects(backend.deregister(svc, 'own-1', wrong), notOwner);
      assert.ok(await backend.get(svc, 'own-1'), 'refused calls change nothing');
      const hb = await backend.heartbeat(svc, 'own-1', lease, { tokenHash: a.hash });
      assert.equal(hb.epoch, reg.epoch);
      for (const inst of [reg, hb, await backend.get(svc, 'own-1'), ...(await backend.list(svc))]) {
        const json = JSON.stringify(inst);
        assert.ok(!json.includes(a.hash) && !json.includes('10.0.0.9'), 'no owner record in an instance');
      }
      // A trusted in-process caller (no proof at all) is not checked.
      await backend.heartbeat(svc, 'own-1', lease);
      assert.equal(await backend.deregister(svc, 'own-1', { tokenHash: a.hash }), true);
      await assert.rejects(backend.heartbeat(svc, 'own-1', lease, { tokenHash: a.hash }), isUnknownInstanceError);
    },
  },
  {
    name: 'ownership: status changes need the instance token',
    needs: 'setStatus',
    async run({ backend, service, input, lease }) {
      const svc = service();
      const a = token();
      await backend.register(input(svc, { instanceId: 'own-s' }), lease, owner(a.hash));
      const setStatus = backend.setStatus!.bind(backend);
      await assert.rejects(setStatus(svc, 'own-s', 'DRAINING', { tokenHash: token().hash }), notOwner);
      assert.equal((await backend.get(svc, 'own-s'))?.status, 'UP');
      assert.equal((await setStatus(svc, 'own-s', 'DRAINING', { tokenHash: a.hash }))?.status, 'DRAINING');
      assert.equal((await setStatus(svc, 'own-s', 'UP'))?.status, 'UP', 'the health checker needs no proof');
    },
  },
  {
    name: 'ownership: re-registering a live id needs its token, a service key or the same source',
    async run({ backend, service, input, lease }) {
      const svc = service();
      const a = token();
      const b = token();
      const first = await backend.register(
        input(svc, { instanceId: 'own-r' }),
        lease,
        owner(a.hash, { source: '10.0.0.1' }),
      );
      const hijack = input(svc, { instanceId: 'own-r', url: 'http://127.0.0.1:6666' });
      await assert.rejects(backend.register(hijack, lease, owner(b.hash)), notOwner);
      await assert.rejects(backend.register(hijack, lease, owner(b.hash, { tokenHash: b.hash })), notOwner);
      await assert.rejects(
        backend.register(hijack, lease, owner(b.hash, { source: '10.0.0.2', reclaim: 'source' })),
        notOwner,
      );
      const kept = await backend.get(svc, 'own-r');
      assert.equal(kept?.url, 'http://127.0.0.1:7812', 'refused registrations change nothing');
      assert.equal(kept?.epoch, first.epoch);
      // With the token: the new registration's token replaces the old one.
      const again = await backend.register(
        input(svc, { instanceId: 'own-r' }),
        lease,
        owner(b.hash, { tokenHash: a.hash, source: '10.0.0.1' }),
      );
      assert.equal(again.epoch, first.epoch + 1);
      await assert.rejects(backend.heartbeat(svc, 'own-r', lease, { tokenHash: a.hash }), notOwner);
      await backend.heartbeat(svc, 'own-r', lease, { tokenHash: b.hash });
      // A restarted service that lost its token: from the same source (no keys configured) ...
      const c = token();
      await backend.register(
        input(svc, { instanceId: 'own-r' }),
        lease,
        owner(c.hash, { source: '10.0.0.1', reclaim: 'source' }),
      );
      await backend.heartbeat(svc, 'own-r', lease, { tokenHash: c.hash });
      // ... or holding a service key, from anywhere.
      const d = token();
      await backend.register(input(svc, { instanceId: 'own-r' }), lease, owner(d.hash, { reclaim: 'key' }));
      await assert.rejects(backend.heartbeat(svc, 'own-r', lease, { tokenHash: c.hash }), notOwner);
      await backend.heartbeat(svc, 'own-r', lease, { tokenHash: d.hash });
    },
  },
  {
    name: 'ownership: the token works through a second backend on the same store',
    async run({ backend, peer, service, input, lease }) {
      const svc = service();
      const a = token();
      await backend.register(input(svc, { instanceId: 'own-p' }), lease, owner(a.hash));
      const other = await peer();
      await waitFor(async () => (await other.get(svc, 'own-p')) !== undefined, {
        timeoutMs: 5000,
        description: 'the peer to see the instance',
      });
      await assert.rejects(other.heartbeat(svc, 'own-p', lease, { tokenHash: token().hash }), notOwner);
      await assert.rejects(other.deregister(svc, 'own-p', {}), notOwner);
      await assert.rejects(other.register(input(svc, { instanceId: 'own-p' }), lease, owner(token().hash)), notOwner);
      await other.heartbeat(svc, 'own-p', lease, { tokenHash: a.hash });
      assert.equal(await other.deregister(svc, 'own-p', { tokenHash: a.hash }), true);
      assert.equal(await backend.get(svc, 'own-p'), undefined);
    },
  },
  {
    name: 'ownership: a lapsed id can be registered by anyone, with a new token',
    async run({ backend, service, input, ttlMs, expiryGraceMs, lease }) {
      const svc = service();
      const a = token();
      const b = token();
      await backend.register(input(svc, { instanceId: 'own-l' }), { ttlMs }, owner(a.hash));
      await waitFor(async () => (await backend.get(svc, 'own-l')) === undefined, {
        timeoutMs: ttlMs + expiryGraceMs,
        intervalMs: 50,
        description: 'the lease to lapse',
      });
      const fresh = await backend.register(input(svc, { instanceId: 'own-l' }), lease, owner(b.hash));
      assert.equal(fresh.epoch, 1, 'a lapsed lease starts a new registration');
      await assert.rejects(backend.heartbeat(svc, 'own-l', lease, { tokenHash: a.hash }), notOwner);
      await backend.heartbeat(svc, 'own-l', lease, { tokenHash: b.hash });
    },
  },
];
