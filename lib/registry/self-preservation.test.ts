import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FlakyBackend, fakeRegistry, instanceInput } from '../../fixtures/registry-doubles.js';
import { FakeClock } from '../clock.js';
import { isUnknownInstanceError } from '../errors.js';
import { MemoryBackend } from './backends/memory.js';
import { Registry } from './registry.js';
import type { SelfPreservationState } from './registry-api.js';
import { SelfPreservation } from './self-preservation.js';

const TTL = 90_000;
const ids = Array.from({ length: 10 }, (_, i) => `s${i}`);
const live = ids.slice(0, 5);
const dead = ids.slice(5);

/** A fleet of 10 where instances s5..s9 stop heartbeating at t=0 and expire at t=90 s. */
async function fleetWithHalfSilent() {
  const fx = await fakeRegistry({ ttlMs: TTL });
  const expired: string[] = [];
  const states: SelfPreservationState[] = [];
  fx.registry.on('expired', (i) => expired.push(i.instanceId));
  fx.registry.on('self-preservation', (s) => states.push(s));
  for (const id of ids) await fx.registry.register(instanceInput('sagjan', id));
  /** Advances in 30 s steps, the live half heartbeating after each. */
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += 30_000) {
      await fx.clock.advance(Math.min(30_000, ms - t));
      for (const id of live) await fx.registry.heartbeat('sagjan', id);
    }
  };
  return { ...fx, expired, states, run };
}

describe('self-preservation', () => {
  test('half the fleet expiring in one sweep freezes eviction: all 10 stay routable, health says why', async () => {
    await using fx = await fleetWithHalfSilent();
    await fx.run(90_000);
    assert.equal(fx.registry.instances('sagjan').length, 10);
    assert.equal(fx.registry.get('sagjan', 's9')?.instanceId, 's9');
    const state = fx.registry.health().selfPreservation;
    assert.equal(state.active, true);
    assert.equal(state.preserved, 5);
    assert.equal(state.since, fx.clock.now());
    assert.equal(state.reason, '5 of 10 instances (50%) expired within one sweep');
    assert.deepEqual(fx.expired, []);
    assert.deepEqual(
      fx.states.map((s) => s.active),
      [true],
    );
    // The backend itself already dropped them: heartbeats say "re-register".
    await assert.rejects(fx.registry.heartbeat('sagjan', 's9'), isUnknownInstanceError);
  });

  test('thaws when the held instances come back (heartbeat refused → re-register)', async () => {
    await using fx = await fleetWithHalfSilent();
    await fx.run(90_000);
    for (const id of dead) {
      await assert.rejects(fx.registry.heartbeat('sagjan', id), isUnknownInstanceError);
      await fx.registry.register(instanceInput('sagjan', id));
    }
    await fx.clock.advance(1000);
    assert.deepEqual(
      fx.states.map((s) => s.active),
      [true, false],
    );
    assert.deepEqual(fx.registry.health().selfPreservation, { active: false, preserved: 0 });
    assert.deepEqual(fx.expired, []);
    assert.equal(fx.registry.instances('sagjan').length, 10);
  });

  test('thaws after preserveMaxMs anyway: the dead leave with expired events', async () => {
    await using fx = await fleetWithHalfSilent();
    await fx.run(90_000);
    const frozenAt = fx.clock.now();
    await fx.run(240_000);
    assert.equal(fx.registry.health().selfPreservation.active, true, 'still frozen before 3 × TTL');
    assert.equal(fx.registry.instances('sagjan').length, 10);
    await fx.run(frozenAt + 3 * TTL - fx.clock.now());
    assert.equal(fx.registry.health().selfPreservation.active, false);
    assert.deepEqual(fx.expired.sort(), dead);
    assert.deepEqual(
      fx.registry
        .instances('sagjan')
        .map((i) => i.instanceId)
        .sort(),
      live,
    );
    assert.deepEqual(
      fx.states.map((s) => s.active),
      [true, false],
    );
  });

  test('while frozen, further expiries are held too', async () => {
    await using fx = await fleetWithHalfSilent();
    await fx.run(90_000);
    live.splice(4, 1); // s4 stops heartbeating now
    try {
      await fx.run(120_000);
      assert.equal(fx.registry.health().selfPreservation.preserved, 6);
      assert.equal(fx.registry.instances('sagjan').length, 10);
    } finally {
      live.push('s4');
    }
  });

  test('ordinary churn is evicted at once: one crash, or a share under the threshold', async () => {
    await using fx = await fakeRegistry({ ttlMs: TTL });
    const expired: string[] = [];
    fx.registry.on('expired', (i) => expired.push(i.instanceId));
    await fx.registry.register(instanceInput('a', 'a1'));
    await fx.registry.register(instanceInput('a', 'a2'));
    await fx.clock.advance(30_000);
    await fx.registry.heartbeat('a', 'a2');
    await fx.clock.advance(61_000);
    assert.deepEqual(expired, ['a1'], 'a single expiry never freezes, even in a fleet of 2');
    assert.equal(fx.registry.health().selfPreservation.active, false);
  });
});

describe('self-preservation while the store is down', () => {
  test('leases lapsing one by one while heartbeats cannot reach the store are held until it is back', async () => {
    const clock = new FakeClock();
    const flaky = new FlakyBackend(new MemoryBackend({ clock }));
    await using registry = new Registry({ backend: flaky, clock, ttlMs: TTL, ownsBackend: true });
    await registry.ready();
    const expired: string[] = [];
    registry.on('expired', (i) => expired.push(i.instanceId));
    for (const id of ['a', 'b', 'c']) {
      await registry.register(instanceInput('svc', id));
      await clock.advance(10_000); // staggered: a single expiry per sweep later on
    }
    flaky.failing = true;
    flaky.muted = true; // a dead store sends no events either
    await assert.rejects(registry.heartbeat('svc', 'a'));
    await clock.advance(70_000); // a's lease (registered at 0) lapsed at 90 s
    const state = registry.health().selfPreservation;
    assert.equal(state.active, true);
    assert.match(state.reason ?? '', /1 of 3 instances \(33%\) expired while the store is unreachable/);
    await clock.advance(30_000); // b and c lapse too
    assert.equal(registry.instances('svc').length, 3);
    assert.equal(registry.health().selfPreservation.preserved, 3);
    assert.deepEqual(expired, []);
    // The store comes back (empty after a restart): instances re-register, the freeze thaws.
    flaky.failing = false;
    flaky.muted = false;
    for (const id of ['a', 'b', 'c']) {
      await assert.rejects(registry.heartbeat('svc', id), isUnknownInstanceError);
      await registry.register(instanceInput('svc', id));
    }
    await clock.advance(1000);
    assert.equal(registry.health().selfPreservation.active, false);
    assert.deepEqual(expired, []);
  });

  test('a lease lapsing between two sweeps while the store is unreachable stays routable until the freeze', async () => {
    const clock = new FakeClock();
    const flaky = new FlakyBackend(new MemoryBackend({ clock }));
    await using registry = new Registry({ backend: flaky, clock, ttlMs: TTL, ownsBackend: true });
    await registry.ready();
    await clock.advance(500); // sweeps run at whole seconds: this lease ends half-way between two
    await registry.register(instanceInput('svc', 'a'));
    flaky.failing = true;
    flaky.muted = true;
    await assert.rejects(registry.heartbeat('svc', 'a'));
    await clock.advance(TTL + 100); // 600 ms after the lease ended, 400 ms before the next sweep
    assert.equal(registry.health().selfPreservation.active, false, 'no sweep since the lease ended');
    assert.equal(registry.instances('svc').length, 1, 'the route must not go dark before the freeze');
    assert.equal(registry.get('svc', 'a')?.instanceId, 'a');
    await clock.advance(400);
    assert.equal(registry.health().selfPreservation.active, true);
    assert.equal(registry.instances('svc').length, 1);
  });
});

describe('SelfPreservation state machine', () => {
  const stillExpired = () => true;

  test('freezes only above the threshold with at least minExpired expiries and 2 live', () => {
    const sp = new SelfPreservation({ threshold: 0.15, maxMs: 1000, minExpired: 2 });
    sp.baseline(20);
    assert.deepEqual(sp.sweep({ now: 1, newlyExpired: ['a', 'b', 'c'], total: 20, stillExpired }).evict, [
      'a',
      'b',
      'c',
    ]);
    assert.equal(sp.active, false, '3 of 20 = 15% is not above 15%');
    const d = sp.sweep({ now: 2, newlyExpired: ['d', 'e', 'f'], total: 17, stillExpired });
    assert.deepEqual(d, { evict: [], transition: 'freeze' });
    assert.equal(sp.state().reason, '3 of 17 instances (18%) expired within one sweep');
    assert.ok(sp.isHeld('d'));
  });

  test('thaw releases exactly what is still expired', () => {
    const sp = new SelfPreservation({ threshold: 0.15, maxMs: 1000, minExpired: 2 });
    sp.baseline(10);
    sp.sweep({ now: 0, newlyExpired: ['a', 'b', 'c'], total: 10, stillExpired });
    const back = new Set(['a', 'b']);
    const d = sp.sweep({ now: 10, newlyExpired: [], total: 10, stillExpired: (k) => !back.has(k) });
    assert.deepEqual(d, { evict: ['c'], transition: 'thaw' });
    assert.deepEqual(sp.state(), { active: false, preserved: 0 });
  });
});
