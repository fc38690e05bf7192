/**
 * `/metrics` of the `fleetgate` bin after real traffic (issue 18): a WebSocket message exchange,
 * a retry off a dead instance, a breaker opening on an instance that answers 500, a refused API
 * key, a Via loop (a request and a WebSocket upgrade) and a self-targeting registration. One gateway process configured by a
 * fleetgate.yaml; upstreams on loopback in this process.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startGateway } from './support/gateway-process.js';
import { startUpstream } from './support/upstream-service.js';
import { Inbox, openClient, startEchoInstance } from './websocket-fleet.js';

const KEY = 'metrics-e2e-key-0123456789abcdef';

/** The sample lines of `name` (without HELP/TYPE). */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

/** The value of one sample line, 0 when absent. */
function value(text: string, line: string): number {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

describe('metrics through the bin', () => {
  it('counts WebSocket messages, retries, breaker transitions, auth refusals and loops', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetgate-metrics-'));
    const configPath = join(dir, 'fleetgate.yaml');
    writeFileSync(configPath, `apiKeys:\n  required: false\n  keys:\n    - { name: e2e, key: ${KEY} }\n`);
    await using live = await startUpstream('live');
    await using chat = await startEchoInstance('chat-1');
    // A port that refuses connections: listened on once, then closed.
    const gone = createServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const deadPort = (gone.address() as AddressInfo).port;
    await new Promise((resolve) => gone.close(resolve));
    const failing = createServer((_req, res) => res.writeHead(500).end('broken'));
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    const failingUrl = `http://127.0.0.1:${(failing.address() as AddressInfo).port}`;
    await using gw = await startGateway({ FLEETGATE_CONFIG: configPath, GATEWAY_NAME: 'gw-metrics-e2e' });
    const base = gw.url!;
    try {
      const ok = async (body: Record<string, unknown>) => assert.equal((await gw.register(body)).status, 200);
      await ok({
        service: 'items',
        instance_id: 'dead',
        url: `http://127.0.0.1:${deadPort}`,
        routes: [{ method: 'GET', path: '/api/items/:id' }],
      });
      await ok({
        service: 'items',
        instance_id: 'live',
        url: live.url,
        routes: [{ method: 'GET', path: '/api/items/:id' }],
      });
      await ok({
        service: 'flaky',
        instance_id: 'f1',
        url: failingUrl,
        routes: [{ method: 'GET', path: '/api/flaky' }],
      });
      await ok({
        service: 'chat',
        instance_id: 'chat-1',
        url: chat.url,
        routes: [{ method: '*', path: '/chat/:room', protocol: 'ws', public: true }],
      });

      // A retry: round-robin reaches the dead instance within two requests; the live one answers.
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${base}/api/items/${i}`);
        assert.equal(res.status, 200);
        await res.arrayBuffer();
      }
      // A breaker opening: five 500s in a row (BREAKER_DEFAULTS.consecutiveFailures).
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${base}/api/flaky`);
        assert.equal(res.status, 500);
        await res.arrayBuffer();
      }
      // A refused API key (presented, unknown), a Via loop, a registration pointing at the gateway.
      assert.equal(
        (await fetch(`${base}/api/items/1`, { headers: { 'x-api-key': 'not-a-key-0123456789' } })).status,
        401,
      );
      assert.equal((await fetch(`${base}/api/items/1`, { headers: { via: '1.1 gw-metrics-e2e' } })).status, 508);
      // The same loop on a WebSocket upgrade, refused before any instance is dialled.
      await assert.rejects(
        openClient(`${base.replace('http', 'ws')}/api/items/1`, { headers: { via: '1.1 gw-metrics-e2e' } }),
        { status: 508 },
      );
      const self = await gw.register({ service: 'selfish', url: base, routes: [] });
      assert.equal(self.status, 400);
      assert.equal(((await self.json()) as { error: { code: string } }).error.code, 'ERR_FG_SELF_TARGET');

      // A WebSocket message exchange: one frame out, the echo's push back.
      const ws = await openClient(`${base.replace('http', 'ws')}/ws`);
      const inbox = new Inbox(ws);
      ws.send(JSON.stringify({ path: '/chat/lobby', id: 'm1', data: { text: 'hi' } }));
      const echoed = await inbox.json<{ instance: string }>();
      assert.equal(echoed.instance, 'chat-1');

      const text = await (await fetch(`${base}/metrics`)).text();
      assert.equal(value(text, 'fleetgate_ws_messages_total{direction="to_service",service="chat"}'), 1);
      assert.equal(value(text, 'fleetgate_ws_messages_total{direction="to_client",service="chat"}'), 1);
      assert.equal(value(text, 'fleetgate_ws_connections{service="chat"}'), 1);
      assert.equal(value(text, 'fleetgate_ws_pins{service="chat"}'), 1);
      assert.equal(value(text, 'fleetgate_ws_clients'), 1);
      assert.equal(value(text, 'fleetgate_retries_total{service="items",reason="connect"}'), 1);
      assert.equal(value(text, 'fleetgate_breaker_state{service="flaky",instance="f1"}'), 1, 'open');
      assert.equal(value(text, 'fleetgate_breaker_transitions_total{service="flaky",to="open"}'), 1);
      assert.equal(
        value(text, 'fleetgate_auth_rejections_total{mechanism="api_key",status="401",reason="unknown"}'),
        1,
      );
      assert.equal(value(text, 'fleetgate_loops_detected_total{kind="own_via"}'), 2);
      assert.equal(value(text, 'fleetgate_loops_detected_total{kind="self_target"}'), 1);
      assert.equal(
        value(text, 'fleetgate_route_upstream_duration_seconds_count{service="items",route="/api/items/:id"}'),
        2,
      );
      assert.equal(value(text, 'fleetgate_requests_total{service="flaky",route="/api/flaky",status="500"}'), 5);
      assert.equal(value(text, 'fleetgate_registry_store_live'), 1);
      assert.ok(
        samples(text, 'fleetgate_registry_store_last_success_age_seconds').length === 1,
        'the in-memory store answered calls',
      );
      ws.close();
    } finally {
      failing.closeAllConnections();
      await new Promise((resolve) => failing.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
