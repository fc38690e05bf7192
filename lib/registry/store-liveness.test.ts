import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HungBackend } from '../../fixtures/hung-backend.js';
import { instanceInput } from '../../fixtures/registry-doubles.js';
import { FakeClock } from '../clock.js';
import { isStoreUnavailableError } from '../errors.js';
import { buildHealthReport } from '../health/health-aggregator.js';
import { createMetrics } from '../telemetry/metrics.js';
import { MemoryBackend } from './backends/memory.js';
import { Registry } from './registry.js';
import type { RegistryApi } from './registry-api.js';
import type { RegistryOptions } from './registry-options.js';
import { StoreLiveness } from './store-liveness.js';
import type { StoreState } from './store-monitor.js';

async function hungRegistry(options: Partial<RegistryOptions> = {}) {
  const clock = new FakeClock();
  const backend = new HungBackend(new MemoryBackend({ clock }));
  const lines: string[] = [];
  const logger = {
    info: (m: string) => lines.push(`info ${m}`),
    warn: (m: string) => lines.push(`warn ${m}`),
    error: (m: string) => lines.push(`error ${m}`),
  };
  const registry = new Registry({ backend, clock, logger, ownsBackend: true, ttlMs: 90_000, ...options });
  await registry.ready();
  const states: StoreState['state'][] = [];
  registry.on('store-state', (s) => states.push(s.state));
  return { clock, backend, registry, lines, states, [Symbol.asyncDispose]: () => registry.close() };
}

/** Settles `p` and reports how it ended, without letting a pending promise hang the test. */
function track<T>(p: Promise<T>): { settled: () => 'pending' | 'resolved' | 'rejected'; error: () => unknown } {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  let error: unknown;
  p.then(
    () => {
      state = 'resolved';
    },
    (err: unknown) => {
      state = 'rejected';
      error = err;
    },
  );
  return { settled: () => state, error: () => error };
}

describe('store liveness', () => {
  test('StoreLiveness: one probe at a time while answered, a miss reported after timeoutMs', async () => {
    const clock = new FakeClock();
    let answer = true;
    const outcomes: string[] = [];
    const liveness = new StoreLiveness({
      clock,
      probe: () => (answer ? Promise.resolve() : new Promise<void>(() => {})),
      onProbe: (o) => outcomes.push(`${clock.now() - 1_700_000_000_000}:${o.ok}`),
    });
    liveness.start();
    await clock.advance(0);
    assert.deepEqual(outcomes, ['0:true']);
    answer = false;
    await clock.advance(250); // the second probe goes out, unanswered
    await clock.advance(499); // the tick at 500 sends none: one is in flight and the store answered so far
    assert.deepEqual(outcomes, ['0:true']);
    await clock.advance(1);
    assert.deepEqual(outcomes, ['0:true', '750:false']);
    // Failing: a probe every tick although others are in flight, so healing is seen at once.
    answer = true;
    await clock.advance(250);
    assert.deepEqual(outcomes, ['0:true', '750:false', '1000:true']);
    liveness.stop();
    await clock.advance(5000);
    assert.equal(outcomes.length, 3);
    assert.equal(clock.pending, 0);
  });

  test('a hung store is down within 750 ms: /health degraded, connected false, reason; one log line', async () => {
    await using fx = await hungRegistry();
    await fx.registry.register(instanceInput('sagjan', 's1'));
    await fx.clock.advance(300);
    assert.equal(fx.registry.storeState().state, 'up');
    assert.equal(buildHealthReport({ registry: fx.registry }).status, 'healthy');
    fx.backend.hung = true;
    await fx.clock.advance(750);
    assert.equal(fx.registry.storeState().state, 'down');
    const report = buildHealthReport({ registry: fx.registry });
    assert.equal(report.status, 'degraded');
    assert.equal(report.registry.connected, false);
    assert.match(report.registry.degraded_reason ?? '', /HUNG store does not answer/);
    assert.deepEqual(fx.states, ['down']);
    // Last-known routes keep serving, even past their TTL while the store is down.
    await fx.clock.advance(100_000);
    assert.deepEqual(
      fx.registry.instances('sagjan').map((i) => i.instanceId),
      ['s1'],
    );
    assert.equal(fx.lines.filter((l) => l.includes('store down')).length, 1);
  });

  test('while down, heartbeats and registrations fail at once with ERR_FG_STORE_UNAVAILABLE', async () => {
    await using fx = await hungRegistry();
    await fx.registry.register(instanceInput('sagjan', 's1'));
    fx.backend.hung = true;
    await fx.clock.advance(750);
    await assert.rejects(fx.registry.heartbeat('sagjan', 's1'), isStoreUnavailableError);
    await assert.rejects(fx.registry.register(instanceInput('sagjan', 's2')), isStoreUnavailableError);
    // Known down: no log line per failed call.
    assert.equal(fx.lines.filter((l) => l.startsWith('warn')).length, 1);
  });

  test('a call to a store that hangs before the probe notices fails within callTimeoutMs', async () => {
    await using fx = await hungRegistry({ probeTimeoutMs: 5000 });
    await fx.registry.register(instanceInput('sagjan', 's1'));
    fx.backend.hung = true;
    const beat = track(fx.registry.heartbeat('sagjan', 's1'));
    await fx.clock.advance(899);
    assert.equal(beat.settled(), 'pending');
    await fx.clock.advance(1);
    assert.equal(beat.settled(), 'rejected');
    assert.ok(isStoreUnavailableError(beat.error()));
  });

  test('a call in flight when the store is found down fails then, not at its own deadline', async () => {
    const clock = new FakeClock();
    const backend = new HungBackend(new MemoryBackend({ clock }));
    await using registry = new Registry({ backend, clock, ownsBackend: true, callTimeoutMs: 60_000 });
    await registry.ready();
    await registry.register(instanceInput('sagjan', 's1'));
    backend.hung = true;
    const beat = track(registry.heartbeat('sagjan', 's1'));
    await clock.advance(749);
    assert.equal(beat.settled(), 'pending');
    await clock.advance(1);
    assert.equal(registry.storeState().state, 'down');
    assert.equal(beat.settled(), 'rejected');
    assert.ok(isStoreUnavailableError(beat.error()));
  });

  test('when the store answers again: reconnect, full re-list, up and healthy', async () => {
    await using fx = await hungRegistry();
    await fx.registry.register(instanceInput('sagjan', 's1'));
    fx.backend.hung = true;
    await fx.clock.advance(1000);
    assert.equal(fx.registry.storeState().state, 'down');
    const lists = fx.backend.lists;
    fx.backend.hung = false;
    await fx.clock.advance(250);
    assert.equal(fx.registry.storeState().state, 'up');
    assert.equal(fx.backend.reconnects, 1);
    assert.ok(fx.backend.lists > lists, 'a full re-list ran');
    assert.deepEqual(fx.states, ['down', 'resyncing', 'up']);
    const report = buildHealthReport({ registry: fx.registry });
    assert.equal(report.status, 'healthy');
    assert.equal(report.registry.connected, true);
    assert.equal(report.registry.degraded_reason, undefined);
    await fx.registry.heartbeat('sagjan', 's1');
    assert.ok(fx.lines.some((l) => /store up again after \d+ ms/.test(l)));
  });

  test('a failed call alone degrades the report (never "healthy" with a reason) until the store answers', async () => {
    await using fx = await hungRegistry();
    await fx.registry.register(instanceInput('sagjan', 's1'));
    fx.backend.hung = true;
    const beat = track(fx.registry.heartbeat('sagjan', 's1'));
    await fx.clock.advance(900);
    assert.equal(beat.settled(), 'rejected');
    const report = buildHealthReport({ registry: fx.registry });
    assert.notEqual(report.status, 'healthy');
    assert.ok(report.registry.degraded_reason);
    fx.backend.hung = false;
    await fx.clock.advance(1000);
    assert.equal(buildHealthReport({ registry: fx.registry }).status, 'healthy');
  });

  test('buildHealthReport: a registry that gives a degraded reason is never reported healthy', () => {
    const registry = {
      instances: () => [],
      health: () => ({
        type: 'REDIS',
        connected: true,
        degradedReason: 'the REDIS store failed (timeout)',
        selfPreservation: { active: false, preserved: 0 },
      }),
    } as unknown as RegistryApi;
    const report = buildHealthReport({ registry });
    assert.equal(report.status, 'degraded');
    assert.equal(report.registry.degraded_reason, 'the REDIS store failed (timeout)');
  });

  test('metrics: fleetgate_registry_store_up follows the store, transitions are counted', async () => {
    await using fx = await hungRegistry();
    await using metrics = createMetrics({ registry: fx.registry });
    assert.match(await metrics.metrics(), /^fleetgate_registry_store_up 1$/m);
    fx.backend.hung = true;
    await fx.clock.advance(750);
    const text = await metrics.metrics();
    assert.match(text, /^fleetgate_registry_store_up 0$/m);
    assert.match(text, /^fleetgate_registry_store_transitions_total\{to="down"\} 1$/m);
  });

  test('metrics: liveness, the last probe round trip and the age of the last answer, on the fake clock', async () => {
    await using fx = await hungRegistry();
    await using metrics = createMetrics({ registry: fx.registry });
    let text = await metrics.metrics();
    assert.match(text, /^fleetgate_registry_store_live 1$/m);
    assert.match(text, /^fleetgate_registry_store_probe_rtt_seconds 0$/m, 'the fake store answers in 0 ms');
    assert.match(text, /^fleetgate_registry_store_last_success_age_seconds 0$/m);
    fx.backend.hung = true;
    await fx.clock.advance(750);
    text = await metrics.metrics();
    assert.match(text, /^fleetgate_registry_store_live 0$/m);
    assert.match(text, /^fleetgate_registry_store_last_success_age_seconds 0\.75$/m, 'no answer for 750 ms');
    assert.deepEqual(fx.registry.storeLiveness(), {
      probed: true,
      live: false,
      lastRoundTripMs: 0,
      lastSuccessAgeMs: 750,
    });
    fx.backend.hung = false;
    await fx.clock.advance(250);
    text = await metrics.metrics();
    assert.match(text, /^fleetgate_registry_store_live 1$/m, 'answering again (resyncing counts as live)');
    assert.match(text, /^fleetgate_registry_store_last_success_age_seconds 0$/m);
  });

  test('StoreLiveness reports the round trip of an answered probe on the injected clock', async () => {
    const clock = new FakeClock();
    const trips: (number | undefined)[] = [];
    const liveness = new StoreLiveness({
      clock,
      timeoutMs: 500,
      probe: () => new Promise<void>((resolve) => clock.setTimeout(resolve, 40)),
      onProbe: (o) => trips.push(o.roundTripMs),
    });
    liveness.start();
    await clock.advance(0); // the probe is sent from a microtask
    await clock.advance(40);
    liveness.stop();
    assert.deepEqual(trips, [40]);
  });

  test('a backend without probe() is always up (in-memory)', async () => {
    const clock = new FakeClock();
    await using registry = new Registry({ backend: new MemoryBackend({ clock }), clock, ownsBackend: true });
    await registry.ready();
    await clock.advance(5000);
    assert.deepEqual(registry.storeState(), { state: 'up', since: 1_700_000_000_000, probed: false });
  });
});
