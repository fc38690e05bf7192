import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../clock.js';
import type { ServiceInstance } from '../../registry/model.js';
import { EurekaDeltaLog } from './eureka-delta-log.js';

function inst(instanceId: string, extra: Partial<ServiceInstance> = {}): ServiceInstance {
  return {
    service: 'orders',
    instanceId,
    url: 'http://127.0.0.1:7000',
    routes: [],
    weight: 1,
    metadata: {},
    registeredAt: 1,
    lastHeartbeat: 1,
    expiresAt: 90_001,
    status: 'UP',
    epoch: 1,
    ...extra,
  };
}

describe('EurekaDeltaLog', () => {
  it('maps changes to actions and keeps the latest of each instance, in the order of the changes', () => {
    const log = new EurekaDeltaLog(180_000, new FakeClock());
    const live = new Map<string, ServiceInstance>();
    const a = inst('a');
    const b = inst('b');
    const c = inst('c');
    assert.ok(log.record({ type: 'register', instance: a }));
    assert.ok(log.record({ type: 'register', instance: b }));
    assert.ok(log.record({ type: 'register', instance: c }));
    assert.ok(!log.record({ type: 'heartbeat', instance: a, previous: a }), 'heartbeats are no Eureka change');
    assert.ok(!log.record({ type: 'resync' }));
    assert.ok(log.record({ type: 'status', instance: { ...b, status: 'DOWN' }, previous: b }));
    assert.ok(log.record({ type: 'register', instance: { ...a, epoch: 2 }, previous: a }));
    assert.ok(log.record({ type: 'expire', service: 'orders', instanceId: 'c', previous: c }));
    live.set('a', { ...a, epoch: 2 });
    live.set('b', { ...b, status: 'DOWN' });
    const items = log.recent((_s, id) => live.get(id));
    assert.deepEqual(
      items.map((i) => [i.instance.instanceId, i.action]),
      [
        ['b', 'MODIFIED'],
        ['a', 'MODIFIED'],
        ['c', 'DELETED'],
      ],
    );
    assert.equal(items[2]!.instance, c, 'a removed instance is shown as last known');
    assert.equal(log.size, 6);
  });

  it('shows an added or modified instance as the registry holds it now', () => {
    const log = new EurekaDeltaLog(180_000, new FakeClock());
    const registered = inst('a');
    log.record({ type: 'register', instance: registered });
    const renewed = { ...registered, lastHeartbeat: 30_001, expiresAt: 120_001 };
    const [item] = log.recent(() => renewed);
    assert.equal(item!.instance, renewed);
    assert.equal(item!.action, 'ADDED');
    assert.deepEqual(
      log.recent(() => undefined),
      [],
      'gone from the registry with no removal recorded: nothing to show',
    );
  });

  it('forgets changes older than the retention', async () => {
    const clock = new FakeClock();
    const log = new EurekaDeltaLog(180_000, clock);
    log.record({ type: 'register', instance: inst('a') });
    await clock.advance(120_000);
    log.record({ type: 'register', instance: inst('b') });
    await clock.advance(60_000);
    assert.deepEqual(
      log.recent((_s, id) => inst(id)).map((i) => i.instance.instanceId),
      ['a', 'b'],
      'a is exactly 180 s old: still in',
    );
    await clock.advance(1);
    assert.deepEqual(
      log.recent((_s, id) => inst(id)).map((i) => i.instance.instanceId),
      ['b'],
    );
    assert.equal(log.size, 1);
  });
});
