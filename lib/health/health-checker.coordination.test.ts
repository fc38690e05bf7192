/**
 * HealthChecker beyond the ladder: one shared schedule, probe timeouts and close(), shared check
 * leases between gateways, verdicts written by others, and verdicts the registry could not record.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryCheckLease } from './check-lease.js';
import { HealthChecker } from './health-checker.js';
import { fleet, statusOf } from './health-checker.test-kit.js';
import type { Probe } from './probes.js';

describe('HealthChecker: schedule, probes in flight, leases and verdicts', () => {
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
});
