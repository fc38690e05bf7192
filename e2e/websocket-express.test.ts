/**
 * WebSockets through `app.use(discoveryProxy())` in an Express app, with nothing wired by hand:
 * the proxy attaches its `upgrade` handler to the server on the first HTTP request it sees, or
 * at once with `proxy.attach(server)`; closing proxies leaves no `upgrade` listener behind.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { createGateway } from '../lib/gateway.js';
import { discoveryProxy } from '../lib/proxy/discovery-proxy.js';
import type { Registry } from '../lib/registry/registry.js';
import {
  closedWith,
  type EchoInstance,
  Inbox,
  openClient,
  registerInstance,
  startEchoInstance,
  startRegistry,
  waitFor,
} from './websocket-fleet.js';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

describe('websocket through discoveryProxy() in Express', () => {
  let registry: Registry;
  let echo: EchoInstance;
  before(async () => {
    registry = await startRegistry();
    echo = await startEchoInstance('e1');
    await registerInstance(registry, 'live', echo, [{ method: 'GET', path: '/live/**' }]);
  });
  after(async () => {
    await echo.close();
    await registry.close();
  });

  it('wires itself to the server on the first HTTP request, then proxies upgrades', async () => {
    const proxy = discoveryProxy({ registry });
    const app = express();
    app.get('/hello', (_req, res) => {
      res.json({ hello: 'express' });
    });
    app.use(proxy);
    const server = createServer(app);
    const port = await listen(server);
    try {
      assert.equal(server.listenerCount('upgrade'), 0);
      // The app's own route does not reach the proxy; the first request that does attaches it.
      const own = await fetch(`http://127.0.0.1:${port}/hello`);
      assert.deepEqual(await own.json(), { hello: 'express' });
      assert.equal(server.listenerCount('upgrade'), 0);
      const unmatched = await fetch(`http://127.0.0.1:${port}/not-routed`);
      assert.equal(unmatched.status, 404, "no route: the proxy hands it to Express's own 404");
      await unmatched.text();
      await waitFor(() => server.listenerCount('upgrade') === 1, 'the proxy to attach');

      const ws = await openClient(`ws://127.0.0.1:${port}/live/room1`);
      const inbox = new Inbox(ws);
      ws.send('hello');
      assert.deepEqual(await inbox.json(), { instance: 'e1', path: '/live/room1', data: 'hello' });
      ws.close(1000, 'bye');
      assert.equal((await closedWith(ws)).code, 1000);
      assert.equal(server.listenerCount('upgrade'), 1, 'one listener, however many requests');
    } finally {
      await proxy.close();
      assert.equal(server.listenerCount('upgrade'), 0, 'close() detaches');
      await stop(server);
    }
  });

  it('proxy.attach(server) serves an upgrade that comes before any HTTP request', async () => {
    const proxy = discoveryProxy({ registry });
    const app = express();
    app.use(proxy);
    const server = createServer(app);
    const port = await listen(server);
    proxy.attach(server);
    try {
      const ws = await openClient(`ws://127.0.0.1:${port}/live/first`);
      const inbox = new Inbox(ws);
      ws.send('early');
      assert.deepEqual(await inbox.json(), { instance: 'e1', path: '/live/first', data: 'early' });
      ws.close();
      await closedWith(ws);
    } finally {
      await proxy.close();
      await stop(server);
    }
  });

  it('the standalone gateway (what the fleetgate bin runs) serves upgrades from its first connection', async () => {
    await using gateway = await createGateway({ registry, env: {}, healthChecks: false });
    const { port } = await gateway.listen(0, '127.0.0.1');
    assert.equal(gateway.server.listenerCount('upgrade'), 1);
    const ws = await openClient(`ws://127.0.0.1:${port}/live/bin`);
    const inbox = new Inbox(ws);
    ws.send('via the gateway');
    assert.deepEqual(await inbox.json(), { instance: 'e1', path: '/live/bin', data: 'via the gateway' });
    assert.equal(gateway.websocket?.stats().tunnels, 1);
    ws.close();
    await closedWith(ws);
  });

  it('50 proxies created and closed on one server leave no upgrade listener', async () => {
    const server = createServer();
    const port = await listen(server);
    const baseline = server.listenerCount('upgrade');
    try {
      for (let i = 0; i < 50; i++) {
        const proxy = discoveryProxy({ registry });
        server.removeAllListeners('request');
        server.on('request', (req, res) => proxy(req, res));
        assert.equal((await fetch(`http://127.0.0.1:${port}/nothing-here`)).status, 404);
        await waitFor(() => server.listenerCount('upgrade') === baseline + 1, 'attached');
        await proxy.close();
        assert.equal(server.listenerCount('upgrade'), baseline);
      }
    } finally {
      await stop(server);
    }
  });
});
