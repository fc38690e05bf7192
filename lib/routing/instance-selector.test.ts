import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeInstance, T0 } from '../../fixtures/routing-instances.js';
import type { ServiceInstance } from '../registry/model.js';
import { RoundRobinBalancer } from './balancers/round-robin.js';
import { exclusionReason, selectInstance } from './instance-selector.js';
import type { InstanceHealthSignals } from './types.js';

const NOW = T0 + 1000;

function select(candidates: ServiceInstance[], signals?: InstanceHealthSignals, panicThreshold?: number) {
  return selectInstance(candidates, {
    balancer: new RoundRobinBalancer(),
    ctx: {},
    now: NOW,
    service: 'svc',
    ...(signals === undefined ? {} : { signals }),
    ...(panicThreshold === undefined ? {} : { panicThreshold }),
  });
}

function spread(
  candidates: ServiceInstance[],
  picks: number,
  signals?: InstanceHealthSignals,
  panicThreshold?: number,
): Set<string> {
  const balancer = new RoundRobinBalancer();
  const ids = new Set<string>();
  for (let i = 0; i < picks; i++) {
    const sel = selectInstance(candidates, {
      balancer,
      ctx: {},
      now: NOW,
      service: 'svc',
      ...(signals ? { signals } : {}),
      ...(panicThreshold === undefined ? {} : { panicThreshold }),
    });
    if (sel.instance) ids.add(sel.instance.instanceId);
  }
  return ids;
}

describe('selectInstance', () => {
  it('uses every candidate when all are healthy; UNKNOWN takes traffic', () => {
    const insts = [makeInstance('svc', 'a'), makeInstance('svc', 'b', { status: 'UNKNOWN' })];
    const sel = select(insts);
    assert.equal(sel.panic, false);
    assert.deepEqual(sel.excluded, []);
    assert.deepEqual([...spread(insts, 4)].sort(), ['a', 'b']);
  });

  it('excludes expired, DOWN, DRAINING, ejected and circuit-open instances with their reasons', () => {
    const insts = [
      makeInstance('svc', 'up1'),
      makeInstance('svc', 'up2'),
      makeInstance('svc', 'up3'),
      makeInstance('svc', 'up4'),
      makeInstance('svc', 'up5'),
      makeInstance('svc', 'expired', { expiresAt: NOW }),
      makeInstance('svc', 'down', { status: 'DOWN' }),
      makeInstance('svc', 'draining', { status: 'DRAINING' }),
      makeInstance('svc', 'ejected'),
      makeInstance('svc', 'open'),
    ];
    const signals: InstanceHealthSignals = {
      isEjected: (_s, id) => id === 'ejected',
      isCircuitOpen: (_s, id) => id === 'open',
    };
    const sel = select(insts, signals);
    assert.equal(sel.panic, false);
    assert.deepEqual(sel.excluded, [
      { instanceId: 'expired', reason: 'expired' },
      { instanceId: 'down', reason: 'down' },
      { instanceId: 'draining', reason: 'draining' },
      { instanceId: 'ejected', reason: 'ejected' },
      { instanceId: 'open', reason: 'circuit-open' },
    ]);
    assert.deepEqual([...spread(insts, 20, signals)].sort(), ['up1', 'up2', 'up3', 'up4', 'up5']);
  });

  it('leaves liveness to the registry when no `now` is given (self-preservation keeps lapsed leases routable)', () => {
    const lapsed = makeInstance('svc', 'lapsed', { expiresAt: NOW - 60_000 });
    const sel = selectInstance([lapsed], { balancer: new RoundRobinBalancer(), ctx: {}, service: 'svc' });
    assert.equal(sel.instance?.instanceId, 'lapsed');
    assert.deepEqual(sel.excluded, []);
  });

  it('flags an unrecognised status', () => {
    const odd = makeInstance('svc', 'x', { status: 'WEIRD' as ServiceInstance['status'] });
    assert.equal(exclusionReason(odd, NOW, 'svc'), 'unknown-status');
  });

  it('by default (panic off) never sends traffic to a DOWN instance, even when it is the only one', () => {
    const lone = select([makeInstance('svc', 'down', { status: 'DOWN' })]);
    assert.equal(lone.panic, false);
    assert.equal(lone.instance, undefined);
    assert.deepEqual(lone.excluded, [{ instanceId: 'down', reason: 'down' }]);
    const insts = [
      makeInstance('svc', 'up'),
      makeInstance('svc', 'down1', { status: 'DOWN' }),
      makeInstance('svc', 'down2', { status: 'DOWN' }),
    ];
    assert.equal(select(insts).panic, false);
    assert.deepEqual([...spread(insts, 12)], ['up']);
  });

  it('with panicThreshold 0.5 enters panic mode below 50% healthy and spreads over all but draining ones', () => {
    const insts = [
      makeInstance('svc', 'up'),
      makeInstance('svc', 'down1', { status: 'DOWN' }),
      makeInstance('svc', 'down2', { status: 'DOWN' }),
      makeInstance('svc', 'draining', { status: 'DRAINING' }),
    ];
    const sel = select(insts, undefined, 0.5);
    assert.equal(sel.panic, true);
    assert.deepEqual(sel.excluded, [{ instanceId: 'draining', reason: 'draining' }]);
    assert.deepEqual([...spread(insts, 12, undefined, 0.5)].sort(), ['down1', 'down2', 'up']);
  });

  it('stays out of panic at exactly the threshold', () => {
    const insts = [makeInstance('svc', 'up'), makeInstance('svc', 'down', { status: 'DOWN' })];
    const sel = select(insts, undefined, 0.5);
    assert.equal(sel.panic, false);
    assert.equal(sel.instance?.instanceId, 'up');
  });

  it('in panic mode when nothing is healthy, still never picks expired or draining instances', () => {
    const sel = select(
      [makeInstance('svc', 'down', { status: 'DOWN' }), makeInstance('svc', 'gone', { expiresAt: NOW - 1 })],
      undefined,
      0.5,
    );
    assert.equal(sel.panic, true);
    assert.equal(sel.instance?.instanceId, 'down');
    assert.deepEqual(sel.excluded, [{ instanceId: 'gone', reason: 'expired' }]);

    const none = select([makeInstance('svc', 'd', { status: 'DRAINING' })], undefined, 0.5);
    assert.equal(none.instance, undefined);
    assert.deepEqual(none.excluded, [{ instanceId: 'd', reason: 'draining' }]);
  });

  it('panicThreshold 0 disables panic mode', () => {
    const sel = select([makeInstance('svc', 'down', { status: 'DOWN' })], undefined, 0);
    assert.equal(sel.panic, false);
    assert.equal(sel.instance, undefined);
    assert.deepEqual(sel.excluded, [{ instanceId: 'down', reason: 'down' }]);
  });

  it('answers no instance and no panic for no candidates', () => {
    assert.deepEqual(select([]), { instance: undefined, excluded: [], panic: false });
  });
});
