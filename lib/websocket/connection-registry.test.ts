import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../clock.js';
import { MemoryBackend } from '../registry/backends/memory.js';
import { Registry } from '../registry/registry.js';
import { ConnectionRegistry, type EvictionReason, type PinnedConnection } from './connection-registry.js';

class Conn implements PinnedConnection {
  evicted: EvictionReason[] = [];
  constructor(
    readonly service: string,
    readonly instanceId: string,
    readonly owner?: ConnectionRegistry,
  ) {}
  evict(reason: EvictionReason): void {
    this.evicted.push(reason);
    this.owner?.remove(this);
  }
}

async function fleet(clock = new FakeClock()) {
  const registry = new Registry({ backend: new MemoryBackend({ clock }), ownsBackend: true, clock, ttlMs: 1000 });
  await registry.ready();
  for (const id of ['a', 'b', 'c', 'd'])
    await registry.register({ service: 'chat', instanceId: id, url: 'http://127.0.0.1:1' });
  return { registry, clock };
}

describe('ConnectionRegistry', () => {
  it('counts connections per instance and feeds least-connections', () => {
    const conns = new ConnectionRegistry();
    const x = [new Conn('chat', 'a'), new Conn('chat', 'a'), new Conn('chat', 'b')];
    for (const c of x) conns.add(c);
    conns.add(x[0]!);
    assert.equal(conns.total, 3);
    assert.equal(conns.count('chat', 'a'), 2);
    const load = conns.loadOf('chat');
    assert.deepEqual([load('a'), load('b'), load('z')], [2, 1, 0]);
    assert.equal(conns.loadOf('other')('a'), 0);
    assert.deepEqual(conns.counts(), { chat: { a: 2, b: 1 } });
    for (const c of x) conns.remove(c);
    conns.remove(x[0]!);
    assert.equal(conns.total, 0);
    assert.deepEqual(conns.counts(), {});
  });

  it('evicts what is pinned to instances that are deregistered, expire or go DOWN, not DRAINING', async () => {
    const { registry, clock } = await fleet();
    await using _r = registry;
    await using conns = new ConnectionRegistry();
    conns.follow(registry);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((id) => new Conn('chat', id, conns));
    for (const conn of [a!, b!, c!, d!]) conns.add(conn);
    await registry.deregister('chat', 'a');
    await registry.setStatus('chat', 'b', 'DOWN');
    await registry.setStatus('chat', 'c', 'DRAINING');
    assert.deepEqual([a!.evicted, b!.evicted, c!.evicted], [['deregister'], ['down'], []]);
    await registry.heartbeat('chat', 'c');
    await clock.advance(900);
    await registry.heartbeat('chat', 'c');
    await clock.advance(900);
    assert.deepEqual(d!.evicted, ['expire']);
    assert.deepEqual(c!.evicted, []);
    assert.equal(conns.total, 1);
  });

  it('evicts instances a resync no longer lists, and stops following on close', async () => {
    const { registry } = await fleet();
    await using _r = registry;
    const conns = new ConnectionRegistry();
    conns.follow(registry);
    const ghost = new Conn('chat', 'ghost', conns);
    const live = new Conn('chat', 'a', conns);
    conns.add(ghost);
    conns.add(live);
    registry.emit('change', { type: 'resync' });
    assert.deepEqual([ghost.evicted, live.evicted], [['gone'], []]);
    await conns.close();
    await registry.deregister('chat', 'a');
    assert.deepEqual(live.evicted, []);
  });
});
