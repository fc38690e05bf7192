/**
 * registerService({ gateways }): stays with one gateway while it answers, moves to the next after
 * `switchAfter` consecutive transient failures (registration or heartbeat), re-registers there
 * with the same instance id and token, and validates the list up front.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../clock.js';
import { registerService } from './register-service.js';
import { freePort, gateway, register, until } from './register-service.test-kit.js';

const unavailable = { status: 503, body: { error: { code: 'ERR_FG_STORE_UNAVAILABLE', message: 'down' } } };

describe('registerService failover', () => {
  it('moves to the next gateway after two failed heartbeats and re-registers with the same id and token', async () => {
    const a = await gateway();
    const b = await gateway();
    const clock = new FakeClock(0);
    const h = register(a.url, clock, { gateway: undefined, gateways: [a.url, b.url], jitter: 0 });
    const switched: Array<{ from: string; to: string }> = [];
    h.on('switched', (s) => switched.push(s));
    const first = await h.ready;
    assert.equal(h.gateway, a.url);
    const token = 'token-1'; // the fake gateway's token for its first request
    let failed = 0;
    h.on('heartbeat-failed', () => failed++);
    a.override = (req) => (req.method === 'PUT' ? unavailable : undefined);
    clock.advance(1000);
    await until(() => failed === 1, 'first failed heartbeat');
    assert.deepEqual(switched, [], 'one failure does not move');
    clock.advance(1000);
    await until(() => b.count('POST', '/register-service') === 1, 're-registration at b');
    assert.deepEqual(switched, [{ from: a.url, to: b.url }]);
    const again = b.seen.find((s) => s.method === 'POST');
    assert.equal(again?.body?.instance_id, first.instanceId);
    assert.equal(again?.instanceToken, token);
    await until(() => h.state === 'registered' && h.gateway === b.url, 'registered at b');
    clock.advance(1000);
    await until(() => b.count('PUT', '/heartbeat') === 1, 'heartbeats go to b');
    await h.close();
    assert.equal(b.count('DELETE'), 1, 'deregisters through the gateway in use');
    assert.equal(a.count('DELETE'), 0);
  });

  it('moves at the first refused connection, same id, and never deregisters on the way out', async () => {
    const a = await gateway();
    const b = await gateway();
    const clock = new FakeClock(0);
    const h = register(a.url, clock, { gateway: undefined, gateways: [a.url, b.url], instanceId: 'sagjan-1' });
    let moved = false;
    h.on('reregistered', () => {
      moved = true;
    });
    await h.ready;
    await a.stop(); // nobody listens on a's port any more: the next heartbeat is refused
    clock.advance(2 * (a.heartbeatIntervalMs ?? 1000)); // past the jittered interval
    await until(() => moved, 'registered through the second gateway');
    assert.equal(h.gateway, b.url);
    assert.ok(b.instances.has('sagjan-1'));
    assert.equal(a.count('DELETE') + b.count('DELETE'), 0);
    await h.close();
    assert.equal(
      b.count('DELETE', '/instances/sagjan-1'),
      1,
      'closing for good deregisters through the gateway in use',
    );
  });

  it('starts where `gateway` says and wraps round the list when the first gateway refuses', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const b = await gateway();
    const clock = new FakeClock(0);
    const h = register(dead, clock, { gateways: [b.url, dead], switchAfter: 2 });
    assert.equal(h.gateway, dead, 'starts at the gateway named');
    const failures: number[] = [];
    h.on('registration-failed', (_e, r) => failures.push(r.retryInMs));
    await until(() => failures.length === 1, 'refused at the dead one');
    clock.advance(0); // the next gateway is tried at once: no backoff
    await h.ready;
    assert.equal(h.gateway, b.url);
    assert.deepEqual(failures, [0]);
  });

  it('a gateway that answers 429 is waited for, not left', async () => {
    const a = await gateway();
    const b = await gateway();
    const clock = new FakeClock(0);
    a.override = () => ({
      status: 429,
      body: { error: { code: 'ERR_FG_RATE_LIMITED', message: 'slow down' } },
      headers: { 'retry-after': '1' },
    });
    const h = register(a.url, clock, { gateway: undefined, gateways: [a.url, b.url] });
    const waits: number[] = [];
    h.on('registration-failed', (_e, r) => waits.push(r.retryInMs));
    for (let i = 1; i <= 3; i++) {
      await until(() => waits.length === i, `attempt ${i} refused`);
      assert.ok((waits[i - 1] as number) >= 1000, 'Retry-After is honoured');
      clock.advance(waits[i - 1] as number);
    }
    assert.equal(h.gateway, a.url);
    assert.equal(b.count('POST'), 0);
    a.override = undefined;
    await h.ready;
  });

  it('with one gateway, failures never switch', async () => {
    const a = await gateway();
    const clock = new FakeClock(0);
    const h = register(a.url, clock, { gateways: [a.url], jitter: 0 });
    let switched = 0;
    h.on('switched', () => switched++);
    await h.ready;
    let failed = 0;
    h.on('heartbeat-failed', () => failed++);
    a.override = (req) => (req.method === 'PUT' ? unavailable : undefined);
    for (let i = 1; i <= 3; i++) {
      clock.advance(1000);
      await until(() => failed === i, `heartbeat ${i} failed`);
    }
    assert.equal(switched, 0);
  });

  it('refuses a bad list up front with ERR_FG_INVALID_CONFIG', () => {
    const base = { service: 's', url: 'http://127.0.0.1:1' };
    for (const bad of [
      { ...base, gateways: [] },
      { ...base, gateways: ['ftp://x'] },
      { ...base, gateways: 'http://a' as never },
      { ...base, gateways: ['http://a'], gateway: 'http://b' },
      { ...base, gateways: ['http://a'], switchAfter: 0 },
      { ...base } as never,
    ]) {
      assert.throws(() => registerService(bad), { code: 'ERR_FG_INVALID_CONFIG' }, JSON.stringify(bad));
    }
  });
});
