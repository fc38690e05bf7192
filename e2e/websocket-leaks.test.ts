/**
 * No zombie sockets: 1,000 concurrent raw-proxied connections and 300 message-routed clients
 * opened and closed (cleanly and abruptly) leave no listener, no pinned connection and no file
 * descriptor behind.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type WebSocket from 'ws';
import { serveMessageRoutes } from '../lib/client/ws-routes.js';
import {
  type EchoInstance,
  fdCount,
  Inbox,
  openClient,
  registerInstance,
  startEchoInstance,
  startGateway,
  startRegistry,
  waitFor,
} from './websocket-fleet.js';

const RAW_CONNECTIONS = 1000;
const MESSAGE_CLIENTS = 300;
/** Opened at once per batch: stays under the default listen backlog (511). */
const BATCH = 250;
/** Descriptors that may come and go on their own (timers, the test runner's pipes). */
const FD_SLACK = 10;

async function openMany(url: string, n: number): Promise<WebSocket[]> {
  const out: WebSocket[] = [];
  for (let i = 0; i < n; i += BATCH) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(BATCH, n - i) }, () => openClient(url)))));
  }
  return out;
}

describe('websocket gateway: no leaks', () => {
  it('1,000 raw connections and 300 message clients opened and closed leave nothing behind', async () => {
    await using registry = await startRegistry();
    const echoes: EchoInstance[] = [await startEchoInstance('p1'), await startEchoInstance('p2')];
    for (const e of echoes) await registerInstance(registry, 'live', e, [{ method: 'GET', path: '/live/**' }]);
    const chat = await Promise.all(
      ['m1', 'm2'].map((id) => serveMessageRoutes({ port: 0 }, { '/chat/*': () => ({ instance: id }) })),
    );
    for (const [i, s] of chat.entries()) {
      await registry.register({
        service: 'chat',
        instanceId: `m${i + 1}`,
        url: `http://127.0.0.1:${s.port}`,
        routes: s.routeSpecs(),
      });
    }
    const gw = await startGateway({ registry, messagesPerSecond: 0 });
    try {
      gw.ws.attach(gw.server);
      // Warm up lazily created handles before taking the baseline.
      const warm = await openClient(`${gw.base}/live/warm`);
      warm.close();
      await waitFor(() => gw.ws.stats().pinned === 0, 'warm-up closed');
      const baseline = fdCount();

      const raw = await openMany(`${gw.base}/live/leak`, RAW_CONNECTIONS);
      assert.equal(gw.ws.stats().tunnels, RAW_CONNECTIONS);
      assert.equal(echoes[0]!.open + echoes[1]!.open, RAW_CONNECTIONS);
      assert.equal(gw.server.listenerCount('upgrade'), 1);
      assert.ok(fdCount() >= baseline + 2 * RAW_CONNECTIONS, 'the connections really were open at once');
      raw.forEach((ws, i) => {
        if (i % 2 === 0) ws.close(1000);
        else ws.terminate();
      });
      await waitFor(
        () => gw.ws.stats().pinned === 0 && echoes.every((e) => e.open === 0),
        'raw tunnels closed',
        20_000,
      );

      const clients = await openMany(`${gw.base}/ws`, MESSAGE_CLIENTS);
      await Promise.all(
        clients.map(async (ws, i) => {
          const inbox = new Inbox(ws);
          ws.send(JSON.stringify({ path: `/chat/${i}`, id: i }));
          await inbox.json();
        }),
      );
      assert.equal(gw.ws.stats().clients, MESSAGE_CLIENTS);
      assert.equal(gw.ws.stats().upstreams, MESSAGE_CLIENTS);
      clients.forEach((ws, i) => {
        if (i % 2 === 0) ws.close(1000);
        else ws.terminate();
      });
      await waitFor(
        () => {
          const s = gw.ws.stats();
          return s.clients === 0 && s.upstreams === 0 && s.pinned === 0 && chat.every((c) => c.connections === 0);
        },
        'message clients closed',
        20_000,
      );

      await waitFor(() => fdCount() <= baseline + FD_SLACK, `fd count back near ${baseline}`, 20_000);
      const stats = gw.ws.stats();
      assert.deepEqual(
        { ...stats, instances: Object.keys(stats.instances).length },
        {
          tunnels: 0,
          handshakes: 0,
          clients: 0,
          upstreams: 0,
          pinned: 0,
          instances: 0,
          servers: 1,
          dropped: { forged_reply: 0, unknown_reply: 0, malformed: 0 },
        },
      );
      assert.equal(gw.server.listenerCount('upgrade'), 1);
    } finally {
      await gw.close();
      for (const c of chat) await c.close();
      for (const e of echoes) await e.close();
    }
    assert.equal(gw.server.listenerCount('upgrade'), 0);
  });
});
