import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { instanceInput } from '../../fixtures/registry-doubles.js';
import { FakeClock } from '../clock.js';
import { isFleetgateError, isStoreUnavailableError } from '../errors.js';
import { MemoryBackend } from './backends/memory.js';
import type { ServiceInstance } from './model.js';
import { Registry } from './registry.js';
import { REGISTRY_DEFAULTS } from './registry-options.js';

/** A memory backend whose listing answers only after `listMs` of (fake) time, as a big store does. */
class SlowListBackend extends MemoryBackend {
  constructor(
    readonly clock: FakeClock,
    readonly listMs: number,
  ) {
    super({ clock });
  }
  override list(service?: string): Promise<ServiceInstance[]> {
    return new Promise((resolve, reject) => {
      this.clock.setTimeout(() => super.list(service).then(resolve, reject), this.listMs);
    });
  }
}

describe('the full re-list has its own deadline, listTimeoutMs', () => {
  test('defaults to 10 s, validated like the other bounds', () => {
    assert.equal(REGISTRY_DEFAULTS.listTimeoutMs, 10_000);
    assert.throws(
      () => new Registry({ backend: new MemoryBackend(), listTimeoutMs: 0 }),
      (err) => isFleetgateError(err, 'ERR_FG_INVALID_CONFIG') && /listTimeoutMs/.test(err.message),
    );
  });

  test('a listing slower than callTimeoutMs but within listTimeoutMs fills the cache', async () => {
    const clock = new FakeClock();
    const backend = new SlowListBackend(clock, 3000);
    await backend.register(instanceInput('sagjan', 's1'), { ttlMs: 90_000 });
    await using registry = new Registry({ backend, clock, ownsBackend: true, callTimeoutMs: 900 });
    let ready = false;
    registry.ready().then(() => {
      ready = true;
    });
    await clock.advance(0); // the listing is sent from a microtask
    await clock.advance(2999);
    assert.equal(ready, false);
    await clock.advance(1);
    assert.equal(ready, true);
    assert.deepEqual(
      registry.instances('sagjan').map((i) => i.instanceId),
      ['s1'],
    );
  });

  test('a listing slower than listTimeoutMs fails the fill with ERR_FG_STORE_UNAVAILABLE', async () => {
    const clock = new FakeClock();
    const backend = new SlowListBackend(clock, 3000);
    await using registry = new Registry({ backend, clock, ownsBackend: true, listTimeoutMs: 2000 });
    let failure: unknown;
    registry.ready().catch((err: unknown) => {
      failure = err;
    });
    await clock.advance(0);
    await clock.advance(1999);
    assert.equal(failure, undefined);
    await clock.advance(1);
    assert.ok(isStoreUnavailableError(failure));
    assert.match(registry.health().degradedReason ?? '', /list: no answer within 2000 ms/);
  });
});
