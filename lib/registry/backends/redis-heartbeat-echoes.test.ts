import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../clock.js';
import type { ServiceInstance } from '../model.js';
import { HeartbeatEchoes } from './redis-heartbeat-echoes.js';
import { eventFromMessage, eventIdentity } from './redis-keys.js';

function instance(over: Partial<ServiceInstance> = {}): ServiceInstance {
  return {
    service: 'orders',
    instanceId: 'o-1',
    url: 'http://127.0.0.1:7000',
    routes: [{ method: 'GET', path: '/api/orders/*' }],
    weight: 1,
    metadata: { zone: 'a' },
    registeredAt: 1_000,
    lastHeartbeat: 31_000,
    expiresAt: 121_000,
    status: 'UP',
    epoch: 2,
    ...over,
  } as ServiceInstance;
}

/** The message the heartbeat script publishes for `i` (redis-scripts.ts `publish`). */
function published(i: ServiceInstance, type = 'heartbeat'): string {
  const { registeredAt, lastHeartbeat, expiresAt, status, epoch, ...doc } = i;
  return `{"t":"${type}","s":${JSON.stringify(i.service)},"i":${JSON.stringify(i.instanceId)},"h":${lastHeartbeat},"r":${registeredAt},"x":${expiresAt},"st":"${status}","e":${epoch},"d":${JSON.stringify(doc)}}`;
}

describe('eventIdentity', () => {
  it('is the message without its doc, or all of it when there is none', () => {
    const m = published(instance());
    assert.equal(eventIdentity(m), m.slice(0, m.indexOf(',"d":')));
    assert.equal(eventIdentity('{"t":"expire","s":"a","i":"b"}'), '{"t":"expire","s":"a","i":"b"}');
  });

  it('is not fooled by a name that spells the doc key', () => {
    const i = instance({ service: 'x,"d":{}', instanceId: '\\",' });
    const m = published(i);
    assert.ok(eventIdentity(m).includes('"h":31000'), 'the identity reaches past the names');
    assert.deepEqual(eventFromMessage(m)?.instance, i);
  });
});

describe('HeartbeatEchoes', () => {
  it("hands back the renewed instance for its heartbeat's echo, once", () => {
    const echoes = new HeartbeatEchoes(new FakeClock(0));
    const renewed = instance();
    echoes.renewed(renewed);
    const m = published(renewed);
    assert.equal(echoes.take(m), renewed);
    assert.equal(echoes.take(m), undefined, 'a second copy is parsed as usual');
    assert.equal(echoes.size, 0);
  });

  it('knows only the exact event: another heartbeat time, status, epoch or type is parsed', () => {
    const echoes = new HeartbeatEchoes(new FakeClock(0));
    echoes.renewed(instance());
    for (const other of [
      published(instance({ lastHeartbeat: 31_001 })),
      published(instance({ status: 'DOWN' })),
      published(instance({ epoch: 3 })),
      published(instance({ instanceId: 'o-2' })),
      published(instance(), 'status'),
      published(instance(), 'register'),
    ]) {
      assert.equal(echoes.take(other), undefined, other);
    }
    assert.equal(echoes.size, 1);
  });

  it('forgets a renewal whose echo never came after two generations, on the fake clock', async () => {
    const clock = new FakeClock(0);
    const echoes = new HeartbeatEchoes(clock, 1000);
    const lost = instance({ instanceId: 'lost' });
    echoes.renewed(lost);
    await clock.advance(1000);
    echoes.renewed(instance({ instanceId: 'o-2' }));
    assert.equal(echoes.size, 2, 'one generation old: still waiting');
    await clock.advance(1000);
    echoes.renewed(instance({ instanceId: 'o-3' }));
    assert.equal(echoes.size, 2);
    assert.equal(echoes.take(published(lost)), undefined);
  });

  it('forgets everything on clear (a subscriber reconnected)', () => {
    const echoes = new HeartbeatEchoes(new FakeClock(0));
    echoes.renewed(instance());
    echoes.clear();
    assert.equal(echoes.take(published(instance())), undefined);
  });
});
