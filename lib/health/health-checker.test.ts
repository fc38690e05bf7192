import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, it } from 'node:test';
import { FakeClock } from '../clock.js';
import { isFleetgateError } from '../errors.js';
import { MemoryBackend } from '../registry/backends/memory.js';
import { Registry } from '../registry/registry.js';
import { MemoryCheckLease } from './check-lease.js';
import { HEALTH_CHECK_DEFAULTS, HealthChecker, type HealthTransition } from './health-checker.js';
import type { Probe, ProbeTarget } from './probes.js';

const DAY = 86_400_000;

/** A registry on a fake clock whose leases outlive the test, plus a probe the test steers. */
async function fleet() {
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

const statusOf = (registry: Registry, id: string) => registry.get('svc', id)?.status;

describe('HealthChecker', () => {
  it('walks the whole ladder: 3 failures → DOWN, every 120 s while DOWN, stops after 10, re-registration resumes, success → UP', async () => {
    const f = await fleet();
    await using _registry = f.registry;
    await f.register('a');
    const baseline = f.clock.pending;
    const transitions: HealthTransition[] = [];
    const published: unknown[] = [];
    const onPublish = (m: unknown) => published.push(m);
    subscribe('fleetgate:health', onPublish);
    const logs: string[] = [];
    const logger = {
      info: (m: string) => logs.push(`info ${m}`),
      warn: (m: string) => logs.push(`warn ${m}`),
      error: () => {},
    };
    const checker = new HealthChecker({
      registry: f.registry,
      clock: f.clock,
      probe: f.probe,
      random: () => 0.5,
      logger,
    });
    checker.on('transition', (t) => transitions.push(t));
    try {
      checker.start();
      // First check at a jittered offset (0.5 × 30 s), then every 30 s.
      await f.clock.advance(15_000);
      assert.deepEqual(f.probesOf('a'), [15_000]);
      assert.equal(checker.get('svc', 'a')?.lastSuccess, 15_000);
      assert.equal(checker.get('svc', 'a')?.responseTimeMs, 3);

      f.healthy.set('http://a.test', false);
      await f.clock.advance(60_000); // failures at 45 s and 75 s: still UP
      assert.equal(statusOf(f.registry, 'a'), 'UP');
      assert.equal(checker.get('svc', 'a')?.consecutiveFailures, 2);
      await f.clock.advance(30_000); // third failure at 105 s
      assert.equal(statusOf(f.registry, 'a'), 'DOWN');
      assert.deepEqual(
        f.registry.instances('svc').map((i) => i.status),
        ['DOWN'],
      );
      assert.equal(transitions.length, 1);
      assert.deepEqual(transitions[0], {
        service: 'svc',
        instanceId: 'a',
        from: 'UP',
        to: 'DOWN',
        at: 105_000,
        consecutiveFailures: 3,
        error: 'ECONNREFUSED',
      });
      assert.deepEqual(published, transitions);
      assert.match(logs.at(-1) ?? '', /^warn .*svc\/a UP → DOWN after 3 failed checks \(ECONNREFUSED\)/);

      // While DOWN: every 120 s, until the 10th consecutive failure; then nothing.
      await f.clock.advance(10 * 120_000);
      assert.deepEqual(
        f.probesOf('a'),
        [15_000, 45_000, 75_000, 105_000, 225_000, 345_000, 465_000, 585_000, 705_000, 825_000, 945_000],
      );
      const stopped = checker.get('svc', 'a');
      assert.equal(stopped?.stopped, true);
      assert.equal(stopped?.consecutiveFailures, 10);
      assert.equal(f.clock.pending, baseline, 'no timer is left for a stopped instance');
      assert.match(logs.at(-1) ?? '', /failed 10 checks in a row; probing stops/);

      // A re-registration (epoch bump) starts over; the service is healthy again.
      f.healthy.set('http://a.test', true);
      await f.register('a');
      f.probes.length = 0;
      await f.clock.advance(15_000);
      assert.equal(f.probesOf('a').length, 1);
      assert.equal(statusOf(f.registry, 'a'), 'UP');
      assert.equal(checker.get('svc', 'a')?.consecutiveFailures, 0);
      assert.equal(checker.get('svc', 'a')?.stopped, false);
      await f.clock.advance(30_000);
      assert.equal(f.probesOf('a').length, 2, 'normal interval again');
    } finally {
      unsubscribe('fleetgate:health', onPublish);
      await checker.close();
    }
    assert.equal(f.clock.pending, baseline);
  });

  it('recovers a DOWN instance on the first success (DOWN → UP) and resumes the normal interval', async () => {
    const f = await fleet();
    await using _registry = f.registry;
    await f.register('b');
    f.healthy.set('http://b.test', false);
    await using checker = new HealthChecker({ registry: f.registry, clock: f.clock, probe: f.probe, random: () => 0 });
    const transitions: string[] = [];
    checker.on('transition', (t) => transitions.push(`${t.from}→${t.to}@${t.at}`));
    checker.start();
    await f.clock.advance(60_000); // failures at 0, 30 s, 60 s
    assert.equal(statusOf(f.registry, 'b'), 'DOWN');
    f.healthy.set('http://b.test', true);
    await f.clock.advance(120_000); // next probe at 180 s
    assert.equal(statusOf(f.registry, 'b'), 'UP');
    assert.deepEqual(transitions, ['UP→DOWN@60000', 'DOWN→UP@180000']);
    assert.deepEqual(
      checker.get('svc', 'b')?.history.map((h) => `${h.from}→${h.to}`),
      ['UP→DOWN', 'DOWN→UP'],
    );
    await f.clock.advance(30_000);
    assert.deepEqual(f.probesOf('b'), [0, 30_000, 60_000, 180_000, 210_000]);
  });

  it('a heartbeat resumes a stopped ladder without changing the status', async () => {
    const f = await fleet();
    await using _registry = f.registry;
    await f.register('c');
    f.healthy.set('http://c.test', false);
    await using checker = new HealthChecker({
      registry: f.registry,
      clock: f.clock,
      probe: f.probe,
      random: () => 0,
      maxFailures: 1,
      stopAfter: 2,
      downIntervalMs: 1000,
    });
    checker.start();
    await f.clock.advance(5000);
    assert.equal(checker.get('svc', 'c')?.stopped, true);
    assert.deepEqual(f.probesOf('c'), [0, 1000]);
    await f.registry.heartbeat('svc', 'c');
    await f.clock.advance(5000);
    assert.equal(statusOf(f.registry, 'c'), 'DOWN');
    assert.deepEqual(
      f.probesOf('c'),
      [0, 1000, 5000, 6000],
      'two more failures after the heartbeat, then stopped again',
    );
  });

  it('with probe periods of 100 s and more, probes due within a second share one wake-up: never early, under 1 s late', async () => {
    const f = await fleet();
    await using _registry = f.registry;
    for (const id of ['h1', 'h2', 'h3']) await f.register(id);
    const spread = [0.1, 0.1001, 0.1002]; // first probes due at 360,000, 360,360 and 360,720 ms
    let n = 0;
    await using checker = new HealthChecker({
      registry: f.registry,
      clock: f.clock,
      probe: f.probe,
      random: () => spread[n++ % 3]!,
      intervalMs: 3_600_000,
    });
    checker.start();
    await f.clock.advance(360_000);
    assert.deepEqual([f.probesOf('h1'), f.probesOf('h2'), f.probesOf('h3')], [[360_000], [], []]);
    await f.clock.advance(999);
    assert.deepEqual([f.probesOf('h2'), f.probesOf('h3')], [[], []], 'no probe before the next whole second');
    await f.clock.advance(1);
    assert.deepEqual([f.probesOf('h2'), f.probesOf('h3')], [[361_000], [361_000]]);
    // The next round: one interval after each probe, on the same rule.
    await f.clock.advance(3_600_000);
    assert.deepEqual(
      [f.probesOf('h1'), f.probesOf('h2'), f.probesOf('h3')],
      [
        [360_000, 3_960_000],
        [361_000, 3_961_000],
        [361_000, 3_961_000],
      ],
    );
  });

  it('an external status change resumes a stopped ladder', async () => {
    const f = await fleet();
    await using _registry = f.registry;
    await f.register('s');
    f.healthy.set('http://s.test', false);
    await using checker = new HealthChecker({
      registry: f.registry,
      clock: f.clock,
      probe: f.probe,
      random: () => 0,
      maxFailures: 1,
      stopAfter: 1,
    });
    checker.start();
    await f.clock.advance(0);
    assert.equal(checker.get('svc', 's')?.stopped, true);
    f.healthy.set('http://s.test', true);
    await f.registry.setStatus('svc', 's', 'UP'); // an operator forces it back
    await f.clock.advance(0);
    assert.deepEqual(f.probesOf('s'), [0, 0]);
    assert.equal(checker.get('svc', 's')?.stopped, false);
    assert.equal(statusOf(f.registry, 's'), 'UP');
  });

  it('schedules instances that appear and unschedules those that leave on one shared timer, with no timer leaks', async () => {
    const f = await fleet();
    await using _registry = f.registry;
    const baseline = f.clock.pending;
    await using checker = new HealthChecker({
      registry: f.registry,
      clock: f.clock,
      probe: f.probe,
      random: () => 0.1,
    });
    checker.start();
    assert.equal(f.clock.pending, baseline);
    await f.register('d');
    await f.register('e', 'other');
    assert.equal(f.clock.pending, baseline + 1, 'one timer for every instance');
    await f.clock.advance(3000);
    assert.deepEqual(f.probesOf('d'), [3000]);
    assert.deepEqual(f.probesOf('e'), [3000]);
    await f.registry.deregister('svc', 'd');
    assert.equal(checker.get('svc', 'd'), undefined);
    assert.equal(f.clock.pending, baseline + 1);
    await f.clock.advance(60_000);
    assert.deepEqual(f.probesOf('d'), [3000]);
    assert.deepEqual(f.probesOf('e'), [3000, 33_000, 63_000]);
    await checker.close();
    assert.equal(f.clock.pending, baseline);
    await f.register('late');
    assert.equal(f.clock.pending, baseline, 'a closed checker ignores new registrations');
  });

  it('fails a probe that outlives timeoutMs and aborts it', async () => {
    const f = await fleet();
    await using _registry = f.registry;
    await f.register('slow');
    const baseline = f.clock.pending;
    let aborted = 0;
    const hanging: Probe = (_t, signal) =>
      new Promise((resolve) => {
        signal.addEventListener('abort', () => {
          aborted++;
          resolve({ healthy: false, responseTimeMs: 0, error: 'aborted late' });
        });
      });
    await using checker = new HealthChecker({
      registry: f.registry,
      clock: f.clock,
      probe: hanging,
      random: () => 0,
      timeoutMs: 5000,
      maxFailures: 1,
    });
    checker.start();
    await f.clock.advance(5000);
    assert.equal(aborted, 1);
    assert.equal(statusOf(f.registry, 'slow'), 'DOWN');
    assert.equal(checker.get('svc', 'slow')?.lastError, 'timeout after 5000 ms');
    assert.equal(checker.get('svc', 'slow')?.responseTimeMs, 5000);
    await checker.close();
    assert.equal(f.clock.pending, baseline);
  });

  it('close() aborts a probe in flight', async () => {
    const f = await fleet();
    await using _registry = f.registry;
    await f.register('hang');
    const baseline = f.clock.pending;
    let aborted = false;
    let started!: () => void;
    const probing = new Promise<void>((resolve) => {
      started = resolve;
    });
    const hanging: Probe = (_t, signal) =>
      new Promise((resolve) => {
        started();
        signal.addEventListener('abort', () => {
          aborted = true;
          resolve({ healthy: false, responseTimeMs: 0, error: 'aborted' });
        });
      });
    const checker = new HealthChecker({ registry: f.registry, clock: f.clock, probe: hanging, random: () => 0 });
    checker.start();
    await f.clock.advance(0);
    await probing;
    await checker.close();
    assert.equal(aborted, true);
    assert.equal(f.clock.pending, baseline, 'the timeout timer is gone too');
    assert.equal(statusOf(f.registry, 'hang'), 'UP');
  });

  it('with a shared lease only one checker probes an instance; the other takes over when it closes', async () => {
    const f = await fleet();
    await using _registry = f.registry;
    await f.register('shared');
    const lease = new MemoryCheckLease({ clock: f.clock });
    const byChecker: string[] = [];
    const tagged =
      (name: string): Probe =>
      async (t, s) => {
        byChecker.push(name);
        return f.probe(t, s);
      };
    const one = new HealthChecker({
      registry: f.registry,
      clock: f.clock,
      probe: tagged('one'),
      lease,
      holderId: 'one',
      random: () => 0,
    });
    await using two = new HealthChecker({
      registry: f.registry,
      clock: f.clock,
      probe: tagged('two'),
      lease,
      holderId: 'two',
      random: () => 0,
    });
    one.start();
    two.start();
    await f.clock.advance(90_000);
    assert.deepEqual(byChecker, ['one', 'one', 'one', 'one']);
    await one.close();
    await f.clock.advance(30_000);
    assert.deepEqual(byChecker.slice(4), ['two']);
  });

  it('follows verdicts written by other gateways and leaves DRAINING instances alone', async () => {
    const f = await fleet();
    await using _registry = f.registry;
    await f.register('g');
    await using checker = new HealthChecker({ registry: f.registry, clock: f.clock, probe: f.probe, random: () => 0 });
    checker.start();
    await f.clock.advance(0);
    await f.registry.setStatus('svc', 'g', 'DOWN'); // as if a peer gateway had decided
    assert.equal(checker.get('svc', 'g')?.status, 'DOWN');
    await f.clock.advance(120_000); // DOWN cadence; the probe succeeds and brings it back
    assert.equal(statusOf(f.registry, 'g'), 'UP');
    await f.registry.setStatus('svc', 'g', 'DRAINING');
    const before = f.probesOf('g').length;
    f.healthy.set('http://g.test', false);
    await f.clock.advance(300_000);
    assert.equal(f.probesOf('g').length, before);
    assert.equal(statusOf(f.registry, 'g'), 'DRAINING');
  });

  it('retries a verdict the registry could not record', async () => {
    const f = await fleet();
    await using _registry = f.registry;
    await f.register('h');
    f.healthy.set('http://h.test', false);
    const real = f.registry.setStatus.bind(f.registry);
    let failOnce = true;
    f.registry.setStatus = async (...args) => {
      if (failOnce) {
        failOnce = false;
        throw new Error('store down');
      }
      return real(...args);
    };
    await using checker = new HealthChecker({
      registry: f.registry,
      clock: f.clock,
      probe: f.probe,
      random: () => 0,
      maxFailures: 1,
    });
    checker.start();
    await f.clock.advance(0);
    assert.equal(statusOf(f.registry, 'h'), 'UP', 'first write failed');
    await f.clock.advance(120_000);
    assert.equal(statusOf(f.registry, 'h'), 'DOWN');
  });

  it('validates options and keeps DEFAULTS frozen', async () => {
    const f = await fleet();
    await using _registry = f.registry;
    assert.ok(Object.isFrozen(HEALTH_CHECK_DEFAULTS));
    assert.equal(HEALTH_CHECK_DEFAULTS.intervalMs, 30_000);
    assert.equal(HEALTH_CHECK_DEFAULTS.timeoutMs, 5_000);
    for (const bad of [{ intervalMs: 0 }, { maxFailures: 0 }, { stopAfter: 2, maxFailures: 3 }, { timeoutMs: -1 }]) {
      assert.throws(
        () => new HealthChecker({ registry: f.registry, ...bad }),
        (e: unknown) => isFleetgateError(e, 'ERR_FG_INVALID_CONFIG'),
      );
    }
  });
});
