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

  test('close() cancels the sweep timer', async () => {
    const clock = new FakeClock();
    const backend = new MemoryBackend({ clock });
    assert.equal(clock.pending, 1);
    await backend.close();
    assert.equal(clock.pending, 0);
    assert.ok(Object.isFrozen(MEMORY_BACKEND_DEFAULTS));
  });
});
