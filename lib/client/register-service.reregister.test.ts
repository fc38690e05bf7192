/**
 * registerService: re-registering with the same instance id once the gateway has lost the lease
 * (a 404 on heartbeat, or the TTL running out while the gateway was unreachable).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../clock.js';
import { gateway, register, until } from './register-service.test-kit.js';

describe('registerService', () => {
  it('a 404 on heartbeat re-registers at once with the same instance id and emits reregistered', async () => {
    const gw = await gateway();
    const clock = new FakeClock(0);
    const h = register(gw.url, clock);
    const first = await h.ready;
    const again: number[] = [];
    h.on('reregistered', (r) => again.push(r.epoch ?? -1));
    gw.instances.clear(); // the gateway restarted with an in-memory store
    await clock.advance(1100);
    await until(() => again.length === 1, 'reregistered');
    assert.equal(h.instanceId, first.instanceId);
    const posts = gw.seen.filter((s) => s.method === 'POST');
    assert.equal(posts.length, 2);
    assert.equal(posts[1]!.body?.instance_id, first.instanceId);
    assert.ok(gw.instances.has(first.instanceId));
    // Heartbeats resume on the new lease.
    const before = gw.count('PUT', '/heartbeat');
    await clock.advance(1100);
    await until(() => gw.count('PUT', '/heartbeat') === before + 1, 'heartbeat after re-registering');
    // Every call carries the token of the latest registration; the re-registration sends the old one.
    const tokens = gw.seen.map((s) => `${s.method} ${s.instanceToken ?? '-'}`);
    const [firstToken, secondToken] = ['token-1', `token-${gw.seen.indexOf(posts[1]!) + 1}`];
    assert.equal(tokens[0], 'POST -');
    assert.equal(tokens.at(-1), `PUT ${secondToken}`);
    assert.equal(posts[1]!.instanceToken, firstToken);
    assert.ok(
      gw.seen
        .filter((s) => s.method === 'PUT')
        .every((s) => s.instanceToken === firstToken || s.instanceToken === secondToken),
    );
    await h.close();
    assert.equal(gw.seen.at(-1)?.instanceToken, secondToken, 'the deregistration carries the latest token');
  });

  it('keeps heartbeating through gateway errors, then re-registers after the TTL when it comes back', async () => {
    let gw = await gateway();
    const port = gw.port;
    const clock = new FakeClock(0);
    const h = register(gw.url, clock, { instanceId: 'i-keep' });
    await h.ready;
    const failed: string[] = [];
    h.on('heartbeat-failed', (e) => failed.push(e.code));
    const back: string[] = [];
    h.on('reregistered', (r) => back.push(r.instanceId));
    let regFailures = 0;
    h.on('registration-failed', () => regFailures++);
    gw.override = () => ({ status: 503, body: { error: { code: 'ERR_FG_STORE_UNAVAILABLE', message: 'down' } } });
    await clock.advance(1100);
    await until(() => failed.length === 1, 'first failed heartbeat');
    assert.equal(h.state, 'registered', 'the lease still runs: keep heartbeating');
    await gw.stop();
    for (let i = 2; i <= 3; i++) {
      await clock.advance(1100);
      await until(() => failed.length === i, `failed heartbeat ${i}`);
    }
    assert.deepEqual(failed, ['ERR_FG_STORE_UNAVAILABLE', 'ERR_FG_UPSTREAM_CONNECT', 'ERR_FG_UPSTREAM_CONNECT']);
    await until(() => regFailures === 1, 'switch to registering after the TTL');
    gw = await gateway(port);
    // Once registered, retry waits are capped at the heartbeat interval.
    await clock.advance(1000);
    await until(() => back.length === 1, 'reregistered');
    assert.deepEqual(back, ['i-keep']);
    assert.equal(gw.instances.get('i-keep')?.epoch, 1, 'a fresh gateway: registered anew');
  });
});
