import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createFakeServer, type FakeServiceState } from './server.js';
import type { FakeServiceSpec } from './spec.js';

describe('fake service server', () => {
  const spec: FakeServiceSpec = {
    service: 'orders',
    instanceId: 'orders-1',
    port: 0,
    host: '127.0.0.1',
    gateways: ['http://127.0.0.1:1'],
    routes: [{ method: 'GET', path: '/api/orders/**' }],
    latency: { minMs: 0, maxMs: 0 },
    errorRate: 0,
    payloadBytes: 16,
  };
  const state: FakeServiceState = {
    startedAt: Date.now(),
    requests: 0,
    injectedErrors: 0,
    healthChecks: 0,
    hung: false,
    healthFailing: false,
    gateway: undefined,
    registrations: 0,
    port: 0,
  };
  const crashes: string[] = [];
  const server = createFakeServer(spec, state, { crash: (mode) => crashes.push(mode) });
  let base = '';
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    state.port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${state.port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('echoes who answered, with the payload filler', async () => {
    const res = await fetch(`${base}/api/orders/42`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.instance_id, 'orders-1');
    assert.equal(body.port, state.port);
    assert.equal(body.path, '/api/orders/42');
    assert.equal(body.payload, 'x'.repeat(16));
    assert.equal(state.requests, 1);
  });

  it('fail-health turns /health to 503 and heal brings it back', async () => {
    assert.equal((await fetch(`${base}/health`)).status, 200);
    assert.equal((await fetch(`${base}/_fake/fail-health`, { method: 'POST' })).status, 200);
    assert.equal((await fetch(`${base}/health`)).status, 503);
    await fetch(`${base}/_fake/heal`, { method: 'POST' });
    assert.equal((await fetch(`${base}/health`)).status, 200);
  });

  it('hang leaves requests unanswered until unhang', async () => {
    await fetch(`${base}/_fake/hang`, { method: 'POST' });
    await assert.rejects(fetch(`${base}/api/orders/1`, { signal: AbortSignal.timeout(200) }), /TimeoutError|aborted/);
    const stats = (await (await fetch(`${base}/_fake/stats`)).json()) as FakeServiceState;
    assert.equal(stats.hung, true);
    await fetch(`${base}/_fake/unhang`, { method: 'POST' });
    assert.equal((await fetch(`${base}/api/orders/1`)).status, 200);
  });

  it('crash answers first, then calls the crash hook with the mode', async () => {
    assert.equal((await fetch(`${base}/_fake/crash?mode=kill`, { method: 'POST' })).status, 202);
    for (let i = 0; i < 50 && crashes.length === 0; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(crashes, ['kill']);
  });

  it('an error rate of 1 fails every request, marked as injected', async () => {
    const failing = createFakeServer({ ...spec, errorRate: 1 }, { ...state }, { crash: () => {} });
    await new Promise<void>((r) => failing.listen(0, '127.0.0.1', () => r()));
    const res = await fetch(`http://127.0.0.1:${(failing.address() as AddressInfo).port}/api/orders/1`);
    assert.equal(res.status, 500);
    assert.equal(res.headers.get('x-fake-error'), '1');
    failing.closeAllConnections();
    await new Promise((r) => failing.close(r));
  });
});
