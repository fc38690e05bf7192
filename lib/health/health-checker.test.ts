import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, it } from 'node:test';
import { isFleetgateError } from '../errors.js';
import { HEALTH_CHECK_DEFAULTS, HealthChecker, type HealthTransition } from './health-checker.js';
import { fleet, statusOf } from './health-checker.test-kit.js';

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
