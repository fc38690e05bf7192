import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffRegistry, type ObservedInstance } from './registry-diff.js';

const inst = (
  id: string,
  registry: ObservedInstance['registry'],
  url = `http://127.0.0.1:1/${id}`,
  epoch = 1,
): ObservedInstance => ({
  service: 'orders',
  instanceId: id,
  registry,
  url,
  epoch,
});

describe('registry diff', () => {
  it('reports registration, status changes, moves, re-registration and departure', () => {
    let { next, events } = diffRegistry(new Map(), [inst('o-1', 'UP'), inst('o-2', 'UP')]);
    assert.deepEqual(
      events.map((e) => `${e.target} ${e.message}`),
      ['o-1 registered (UP) at http://127.0.0.1:1/o-1', 'o-2 registered (UP) at http://127.0.0.1:1/o-2'],
    );
    ({ next, events } = diffRegistry(next, [inst('o-1', 'DOWN'), inst('o-2', 'UP', 'http://127.0.0.1:2')]));
    assert.deepEqual(
      events.map((e) => [e.target, e.message, e.level]),
      [
        ['o-1', 'UP → DOWN', 'bad'],
        ['o-2', 'moved http://127.0.0.1:1/o-2 → http://127.0.0.1:2', 'warn'],
      ],
    );
    ({ next, events } = diffRegistry(next, [inst('o-1', 'ABSENT'), inst('o-2', 'UP', 'http://127.0.0.1:2', 2)]));
    assert.deepEqual(
      events.map((e) => `${e.target} ${e.message}`),
      ['o-1 left the registry (was DOWN)', 'o-2 re-registered (epoch 2)'],
    );
    assert.equal(
      diffRegistry(next, [inst('o-1', 'ABSENT'), inst('o-2', 'UP', 'http://127.0.0.1:2', 2)]).events.length,
      0,
    );
  });

  it('summarises a burst in one service', () => {
    const herd = Array.from({ length: 50 }, (_, i) => inst(`h-${i}`, 'UP'));
    const { events } = diffRegistry(new Map(), herd);
    assert.deepEqual(events, [
      { kind: 'registry', target: 'orders', level: 'info', message: '50 instances changed: 50× registered' },
    ]);
  });
});
