/**
 * Conformance cases for the basic lifecycle: the interface, register, heartbeat, deregister,
 * get/list, copies and values round-tripping.
 */
import assert from 'node:assert/strict';
import { isUnknownInstanceError } from '../errors.js';
import type { RegistrationInput, ServiceInstance } from '../registry/model.js';
import type { ConformanceCase } from './suite-context.js';
import { waitFor } from './wait-for.js';

const METHODS = ['register', 'heartbeat', 'deregister', 'get', 'list', 'watch', 'close'] as const;

/** The fields a caller gave, as stored (time fields and epoch left out). */
function given(inst: ServiceInstance | undefined) {
  assert.ok(inst, 'instance expected');
  const { registeredAt: _r, lastHeartbeat: _l, expiresAt: _e, epoch: _p, ...rest } = inst;
  return rest;
}

/** The lifecycle cases. */
export const lifecycleCases: ConformanceCase[] = [
  {
    name: 'implements the interface',
    async run({ backend }) {
      assert.equal(typeof backend.type, 'string');
      assert.ok(backend.type.length > 0, 'type is a non-empty string');
      for (const m of METHODS) assert.equal(typeof backend[m], 'function', `${m}() is a function`);
      assert.equal(typeof backend[Symbol.asyncDispose], 'function', '[Symbol.asyncDispose]() is a function');
      for (const m of ['setStatus', 'isConnected'] as const) {
        assert.ok(['undefined', 'function'].includes(typeof backend[m]), `${m} is absent or a function`);
      }
      if (backend.isConnected) assert.equal(typeof backend.isConnected(), 'boolean');
    },
  },
  {
    name: 'register generates an instance id when absent and fills the defaults',
    async run({ backend, service, input, lease }) {
      const svc = service();
      const a = await backend.register(input(svc), lease);
      const b = await backend.register(input(svc), lease);
      assert.equal(typeof a.instanceId, 'string');
      assert.ok(a.instanceId.length > 0);
      assert.notEqual(a.instanceId, b.instanceId, 'generated ids are unique');
      assert.deepEqual(given(a), {
        service: svc,
        instanceId: a.instanceId,
        url: 'http://127.0.0.1:7812',
        routes: [],
        weight: 1,
        metadata: {},
        status: 'UP',
      });
      assert.equal(a.epoch, 1);
      assert.ok(a.registeredAt <= a.lastHeartbeat && a.lastHeartbeat < a.expiresAt);
      const ttl = a.expiresAt - a.lastHeartbeat;
      assert.ok(Math.abs(ttl - lease.ttlMs) <= 1000, `expiresAt - lastHeartbeat ≈ ttlMs (got ${ttl})`);
      assert.deepEqual(await backend.get(svc, a.instanceId), a);
    },
  },
  {
    name: 'register is idempotent per (service, instanceId) and bumps epoch',
    async run({ backend, service, input, lease }) {
      const svc = service();
      const first = await backend.register(input(svc, { instanceId: 'i-1' }), lease);
      const second = await backend.register(input(svc, { instanceId: 'i-1', url: 'http://127.0.0.1:7813' }), lease);
      assert.equal(first.epoch, 1);
      assert.equal(second.epoch, 2);
      assert.ok(second.registeredAt >= first.registeredAt);
      const listed = await backend.list(svc);
      assert.equal(listed.length, 1, 'one instance after re-registering');
      assert.equal(listed[0]?.url, 'http://127.0.0.1:7813', 're-registering refreshes the values');
      assert.equal(listed[0]?.epoch, 2);
    },
  },
  {
    name: 'heartbeat renews lastHeartbeat and expiresAt',
    async run({ backend, service, input, lease }) {
      const svc = service();
      const reg = await backend.register(input(svc, { instanceId: 'hb' }), lease);
      await waitFor(() => Date.now() > reg.lastHeartbeat + 5, { timeoutMs: 1000, description: 'the clock to move' });
      const hb = await backend.heartbeat(svc, 'hb', lease);
      assert.ok(hb.lastHeartbeat > reg.lastHeartbeat, 'lastHeartbeat moved forward');
      assert.ok(hb.expiresAt > reg.expiresAt, 'expiresAt moved forward');
      assert.equal(hb.epoch, reg.epoch, 'a heartbeat is not a re-registration');
      assert.equal(hb.registeredAt, reg.registeredAt);
      const got = await backend.get(svc, 'hb');
      assert.equal(got?.lastHeartbeat, hb.lastHeartbeat);
      assert.equal(got?.expiresAt, hb.expiresAt);
    },
  },
  {
    name: 'heartbeat of an unknown instance rejects with ERR_FG_UNKNOWN_INSTANCE',
    async run({ backend, service, input, lease }) {
      const svc = service();
      await assert.rejects(backend.heartbeat(svc, 'nobody', lease), (err) => {
        assert.ok(isUnknownInstanceError(err), `expected ERR_FG_UNKNOWN_INSTANCE, got ${String(err)}`);
        assert.equal((err as { code: string }).code, 'ERR_FG_UNKNOWN_INSTANCE');
        return true;
      });
      await backend.register(input(svc, { instanceId: 'gone' }), lease);
      await backend.deregister(svc, 'gone');
      await assert.rejects(backend.heartbeat(svc, 'gone', lease), isUnknownInstanceError);
    },
  },
  {
    name: 'deregister removes the instance: true, then false',
    async run({ backend, service, input, lease }) {
      const svc = service();
      await backend.register(input(svc, { instanceId: 'd1' }), lease);
      await backend.register(input(svc, { instanceId: 'd2' }), lease);
      assert.equal(await backend.deregister(svc, 'd1'), true);
      assert.equal(await backend.deregister(svc, 'd1'), false);
      assert.equal(await backend.deregister(svc, 'never-registered'), false);
      assert.equal(await backend.get(svc, 'd1'), undefined);
      assert.deepEqual(
        (await backend.list(svc)).map((i) => i.instanceId),
        ['d2'],
      );
    },
  },
  {
    name: 'list by service and list of all services',
    async run({ backend, service, input, lease }) {
      const a = service('a');
      const b = service('b');
      await backend.register(input(a, { instanceId: 'a1' }), lease);
      await backend.register(input(a, { instanceId: 'a2' }), lease);
      await backend.register(input(b, { instanceId: 'b1' }), lease);
      const ids = (list: ServiceInstance[]) => list.map((i) => `${i.service}/${i.instanceId}`).sort();
      assert.deepEqual(ids(await backend.list(a)), [`${a}/a1`, `${a}/a2`]);
      assert.deepEqual(ids(await backend.list(b)), [`${b}/b1`]);
      assert.deepEqual(ids(await backend.list(service('empty'))), []);
      const all = (await backend.list()).filter((i) => i.service === a || i.service === b);
      assert.deepEqual(ids(all), [`${a}/a1`, `${a}/a2`, `${b}/b1`]);
      assert.equal(await backend.get(a, 'b1'), undefined, 'get is scoped by service');
    },
  },
  {
    name: 'values round-trip: routes, metadata, weight, version, zone, health endpoint, status',
    async run({ backend, service, lease }) {
      const svc = service();
      const input: RegistrationInput = {
        service: svc,
        instanceId: 'rt-1',
        url: 'https://10.0.0.7:8443',
        healthEndpoint: '/health/ready',
        routes: [
          { method: 'GET', path: '/api/comments/*', permission: 'comments:read', timeoutMs: 2500 },
          { method: '*', path: '/api/:id/**', protocol: 'http' },
          { method: 'GET', path: '/ws/chat', protocol: 'ws', public: true },
        ],
        weight: 3,
        version: '1.2.3-rc.1',
        zone: 'eu-west-1a',
        metadata: { team: 'cms', nested: { list: [1, 'two', { three: true }], empty: {} }, ratio: 0.25, note: 'üñí' },
        status: 'DRAINING',
      };
      const reg = await backend.register(input, lease);
      const expected = { ...input, instanceId: 'rt-1' };
      assert.deepEqual(given(reg), expected);
      assert.deepEqual(given(await backend.get(svc, 'rt-1')), expected);
      assert.deepEqual(given((await backend.list(svc))[0]), expected);
      assert.deepEqual(given(await backend.heartbeat(svc, 'rt-1', lease)), expected);
    },
  },
  {
    name: 'returned instances are copies: mutating them does not change the store',
    async run({ backend, service, input, lease }) {
      const svc = service();
      const reg = await backend.register(input(svc, { instanceId: 'c1', metadata: { a: { b: 1 } } }), lease);
      reg.url = 'http://mutated';
      (reg.metadata['a'] as { b: number }).b = 2;
      const got = await backend.get(svc, 'c1');
      assert.ok(got);
      got.routes.push({ method: 'GET', path: '/x' });
      const again = await backend.get(svc, 'c1');
      assert.equal(again?.url, 'http://127.0.0.1:7812');
      assert.deepEqual(again?.metadata, { a: { b: 1 } });
      assert.deepEqual(again?.routes, []);
    },
  },
  {
    name: '200 concurrent registrations lose none',
    async run({ backend, service, input, lease, record }) {
      const svc = service();
      const rec = record();
      try {
        const ids = Array.from({ length: 200 }, (_, i) => `c-${i}`);
        await Promise.all(ids.map((instanceId) => backend.register(input(svc, { instanceId }), lease)));
        const listed = (await backend.list(svc)).map((i) => i.instanceId).sort();
        assert.deepEqual(listed, [...ids].sort());
        await rec.until(
          (events) => new Set(events.filter((e) => e.type === 'register').map((e) => e.instanceId)).size === 200,
          '200 register events',
        );
      } finally {
        rec.stop();
      }
    },
  },
];
