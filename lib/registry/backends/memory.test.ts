import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeClock } from '../../clock.js';
import { describeRegistryBackend } from '../../conformance/index.js';
import { isFleetgateError, isUnknownInstanceError } from '../../errors.js';
import type { RegistryEvent } from '../model.js';
import { MEMORY_BACKEND_DEFAULTS, MemoryBackend } from './memory.js';

// One process holds the in-memory store: the "second gateway" is the same backend.
describeRegistryBackend('memory', () => new MemoryBackend(), { peer: (first) => first });

describe('MemoryBackend on a fake clock', () => {
  const lease = { ttlMs: 90_000 };
  const input = { service: 'sagjan', instanceId: 's1', url: 'http://127.0.0.1:7812' };

  test('a 90 s lease lapses between 89 s and 91 s; the sweep delivers one expire', async () => {
    const clock = new FakeClock();
    await using backend = new MemoryBackend({ clock });
    const events: string[] = [];
    backend.watch((e) => events.push(e.type));
    await backend.register(input, lease);
    await clock.advance(89_000);
    assert.ok(await backend.get('sagjan', 's1'));
    await clock.advance(2_000);
    assert.equal(await backend.get('sagjan', 's1'), undefined);
    assert.equal(backend.size, 0, 'the sweep deleted it');
    assert.deepEqual(events, ['register', 'expire']);
  });

  test('reads filter an expired lease before the sweep; renewing it then is refused with one expire', async () => {
    const clock = new FakeClock();
    await using backend = new MemoryBackend({ clock, sweepIntervalMs: 3_600_000 });
    const events: RegistryEvent['type'][] = [];
    backend.watch((e) => events.push(e.type as RegistryEvent['type']));
    await backend.register(input, lease);
    await clock.advance(90_000);
    assert.deepEqual(await backend.list(), []);
    assert.equal(backend.size, 1, 'not swept yet');
    await assert.rejects(backend.heartbeat('sagjan', 's1', lease), isUnknownInstanceError);
    const again = await backend.register(input, lease);
    assert.equal(again.epoch, 1, 'a lapsed lease starts a new registration');
    assert.deepEqual(events, ['register', 'expire', 'register']);
  });

  test('watch delivers synchronously, before the call resolves; a throwing watcher harms no one', async () => {
    await using backend = new MemoryBackend({ clock: new FakeClock() });
    const seen: string[] = [];
    backend.watch(() => {
      throw new Error('buggy watcher');
    });
    backend.watch((e) => seen.push(e.type));
    const pending = backend.register(input, lease);
    assert.deepEqual(seen, ['register']);
    await pending;
  });

  test('setStatus to the same value sends no event; invalid input is refused', async () => {
    await using backend = new MemoryBackend({ clock: new FakeClock() });
    const seen: string[] = [];
    backend.watch((e) => seen.push(e.type));
    await backend.register(input, lease);
    await backend.setStatus('sagjan', 's1', 'UP');
    assert.deepEqual(seen, ['register']);
    await assert.rejects(backend.register({ ...input, service: '' }, lease), (e) =>
      isFleetgateError(e, 'ERR_FG_INVALID_BODY'),
    );
    await assert.rejects(backend.register(input, { ttlMs: 0 }), (e) => isFleetgateError(e, 'ERR_FG_INVALID_CONFIG'));
  });

  test('the sweep expires each lease at its own time: renewals and re-registrations move it, nothing early or late', async () => {
    const clock = new FakeClock();
    await using backend = new MemoryBackend({ clock });
    const expired: string[] = [];
    backend.watch((e) => {
      if (e.type === 'expire') expired.push(`${e.instanceId}@${(clock.now() - 1_700_000_000_000) / 1000}`);
    });
    for (const id of ['a', 'b', 'c', 'd']) await backend.register({ ...input, instanceId: id }, lease);
    await clock.advance(30_000);
    await backend.heartbeat('sagjan', 'a', lease); // due at 120 s now
    await backend.register({ ...input, instanceId: 'b' }, { ttlMs: 10_000 }); // re-registered: due at 40 s
    await backend.deregister('sagjan', 'c');
    await clock.advance(9_000);
    assert.deepEqual(expired, [], 'nothing before 40 s');
    await clock.advance(1_000);
    assert.deepEqual(expired, ['b@40']);
    await clock.advance(49_000);
    assert.deepEqual(expired, ['b@40'], 'd is due at 90 s, not before');
    await clock.advance(1_000);
    assert.deepEqual(expired, ['b@40', 'd@90']);
    await clock.advance(29_000);
    assert.deepEqual(expired, ['b@40', 'd@90'], 'a was renewed: not at its first time');
    await clock.advance(1_000);
    assert.deepEqual(expired, ['b@40', 'd@90', 'a@120'], 'c was deregistered: never expired');
    assert.equal(backend.size, 0);
  });

  test('a heartbeat answers the copy its event carried; mutating it changes nothing stored', async () => {
    await using backend = new MemoryBackend({ clock: new FakeClock() });
    const events: RegistryEvent[] = [];
    backend.watch((e) => {
      if (e.type === 'heartbeat') events.push(e as RegistryEvent);
    });
    await backend.register({ ...input, routes: [{ method: 'GET', path: '/a' }], metadata: { k: { v: 1 } } }, lease);
    const answer = await backend.heartbeat('sagjan', 's1', lease);
    assert.equal(events[0]?.instance, answer);
    answer.routes.push({ method: 'GET', path: '/x' });
    (answer.metadata.k as { v: number }).v = 2;
    const stored = await backend.get('sagjan', 's1');
    assert.deepEqual(stored?.routes, [{ method: 'GET', path: '/a' }]);
    assert.deepEqual(stored?.metadata, { k: { v: 1 } });
  });

  test('instances sharing equal routes: mutating an answer or the input changes no stored instance', async () => {
    await using backend = new MemoryBackend({ clock: new FakeClock() });
    const routes = [{ method: 'GET', path: '/a', gateways: ['g1'] }];
    const given = { ...input, routes, metadata: { k: { v: 1 } } };
    await backend.register(given, lease);
    await backend.register({ ...given, instanceId: 's2', routes: structuredClone(routes) }, lease);
    routes[0]!.path = '/changed-input';
    given.metadata.k.v = 3;
    const answer = await backend.heartbeat('sagjan', 's1', lease);
    answer.routes[0]!.gateways!.push('g2');
    answer.routes[0]!.path = '/changed-answer';
    answer.routes.push({ method: 'GET', path: '/x' });
    (answer.metadata.k as { v: number }).v = 2;
    const listed = await backend.list('sagjan');
    assert.equal(listed.length, 2);
    for (const stored of listed) {
      assert.deepEqual(stored.routes, [{ method: 'GET', path: '/a', gateways: ['g1'] }], stored.instanceId);
      assert.deepEqual(stored.metadata, { k: { v: 1 } }, stored.instanceId);
      assert.ok(!Object.isFrozen(stored.routes) && !Object.isFrozen(stored.routes[0]), 'answers stay mutable copies');
    }
  });

  test('a service that comes back after its last instance left stores its new routes', async () => {
    await using backend = new MemoryBackend({ clock: new FakeClock() });
    await backend.register({ ...input, routes: [{ method: 'GET', path: '/a' }] }, lease);
    await backend.deregister('sagjan', 's1');
    await backend.register({ ...input, routes: [{ method: 'GET', path: '/b' }] }, lease);
    await backend.register({ ...input, instanceId: 's2', routes: [{ method: 'GET', path: '/a' }] }, lease);
    assert.deepEqual((await backend.get('sagjan', 's1'))?.routes, [{ method: 'GET', path: '/b' }]);
    assert.deepEqual((await backend.get('sagjan', 's2'))?.routes, [{ method: 'GET', path: '/a' }]);
  });

  test('close() cancels the sweep timer', async () => {
    const clock = new FakeClock();
    const backend = new MemoryBackend({ clock });
    assert.equal(clock.pending, 1);
    await backend.close();
    assert.equal(clock.pending, 0);
    assert.ok(Object.isFrozen(MEMORY_BACKEND_DEFAULTS));
  });
});
