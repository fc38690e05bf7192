/**
 * registerService: the first registration, and the heartbeat schedule that follows it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Clock, FakeClock, type TimerHandle } from '../clock.js';
import { gateway, REQ_TIMEOUT, register, until } from './register-service.test-kit.js';

/** A FakeClock that remembers every setTimeout delay it was asked for. */
class RecordingClock implements Clock {
  readonly fake = new FakeClock(0);
  readonly delays: number[] = [];
  now(): number {
    return this.fake.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    this.delays.push(ms);
    return this.fake.setTimeout(fn, ms);
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.fake.setInterval(fn, ms);
  }
}

describe('registerService', () => {
  it('registers at once with the snake_case body, the token, and resolves ready', async () => {
    const gw = await gateway();
    const clock = new FakeClock(0);
    const h = register(gw.url, clock, {
      routes: [{ method: 'GET', path: '/api/comments/*', permission: 'comments:read', timeoutMs: 2000 }],
      healthEndpoint: '/health',
      weight: 2,
      version: '1.2.3',
      zone: 'eu-1',
      metadata: { team: 'x' },
      token: 's3cret',
    });
    assert.equal(h.instanceId, undefined);
    const events: string[] = [];
    h.on('registered', () => events.push('registered'));
    const reg = await h.ready;
    assert.deepEqual(events, ['registered']);
    assert.equal(h.state, 'registered');
    assert.equal(h.instanceId, reg.instanceId);
    assert.ok(gw.instances.has(reg.instanceId));
    assert.equal(reg.heartbeatIntervalMs, 1000);
    assert.equal(reg.ttlMs, 3000);
    assert.equal(reg.epoch, 1);
    const post = gw.seen[0]!;
    assert.equal(post.authorization, 'Bearer s3cret');
    assert.deepEqual(post.body, {
      service: 'sagjan',
      url: 'http://127.0.0.1:7812',
      health_endpoint: '/health',
      routes: [{ method: 'GET', path: '/api/comments/*', permission: 'comments:read', timeout_ms: 2000 }],
      weight: 2,
      version: '1.2.3',
      zone: 'eu-1',
      metadata: { team: 'x' },
    });
    await h.close();
  });

  it('heartbeats every interval with jitter inside ±10 %, on the server interval', async () => {
    const gw = await gateway();
    const clock = new RecordingClock();
    const h = register(gw.url, clock, { instanceId: 'i-1', ttl: '90s' });
    assert.equal(h.instanceId, 'i-1');
    let beats = 0;
    h.on('heartbeat', () => beats++);
    await h.ready;
    for (let i = 1; i <= 12; i++) {
      await clock.fake.advance(1100);
      await until(() => beats === i, `heartbeat ${i}`);
    }
    assert.equal(gw.count('PUT', '/heartbeat'), 12);
    const waits = clock.delays.filter((d) => d !== REQ_TIMEOUT);
    assert.equal(waits.length, 13); // one scheduled after registering, one after each heartbeat
    for (const w of waits) assert.ok(w >= 900 && w <= 1100, `heartbeat wait ${w} ms outside ±10 %`);
    assert.ok(new Set(waits).size > 1, 'waits are jittered, not constant');
  });

  it('without heartbeat_interval_ms from the server, heartbeats every ttl / 3', async () => {
    const gw = await gateway();
    gw.heartbeatIntervalMs = undefined;
    gw.ttlMs = 9000;
    const clock = new RecordingClock();
    const h = register(gw.url, clock, { jitter: 0 });
    const reg = await h.ready;
    assert.equal(reg.heartbeatIntervalMs, 3000);
    assert.deepEqual(
      clock.delays.filter((d) => d !== REQ_TIMEOUT),
      [3000],
    );
  });
});
