/**
 * A zero-argument websocketGateway() routes from the process-wide default registry that a
 * zero-argument registry() and discoveryProxy() share; a `registry` option still wins; a default
 * registry that cannot be created answers the upgrade with a coded error instead of hanging it;
 * closing gives the lease back.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { MemoryBackend } from '../registry/backends/memory.js';
import { closeDefaultRegistry, defaultRegistry, leaseDefaultRegistry } from '../registry/default-registry.js';
import { Registry } from '../registry/registry.js';
import { websocketGateway } from './websocket-gateway.js';

const LIVE = [{ method: 'GET', path: '/live/**' }];

/** A loopback server, closed by `await using`. */
interface Served extends AsyncDisposable {
  readonly server: Server;
  readonly url: string;
}

async function serve(server: Server): Promise<Served> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    [Symbol.asyncDispose]: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A WebSocket instance that answers every text frame with its own name. */
async function wsInstance(name: string): Promise<Served> {
  const server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    ws.on('message', () => ws.send(name));
  });
  server.once('close', () => wss.close());
  return serve(server);
}

/** Opens a client through the gateway, sends one frame and resolves with the answer. */
async function askThrough(gatewayUrl: string, path: string): Promise<string> {
  const ws = new WebSocket(`${gatewayUrl.replace('http', 'ws')}${path}`);
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send('who');
    return await new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))));
  } finally {
    ws.terminate();
  }
}

/** The status and error code a refused upgrade is answered with. */
async function refusedWith(gatewayUrl: string, path: string): Promise<{ status: number; code: string }> {
  const ws = new WebSocket(`${gatewayUrl.replace('http', 'ws')}${path}`);
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    ws.once('unexpected-response', (_req, r) => resolve(r));
    ws.once('open', () => reject(new Error('the upgrade was accepted')));
    ws.once('error', reject);
  });
  let body = '';
  for await (const chunk of res) body += String(chunk);
  ws.terminate();
  return { status: res.statusCode ?? 0, code: (JSON.parse(body) as { error: { code: string } }).error.code };
}

describe('websocketGateway() without a registry option', () => {
  afterEach(() => closeDefaultRegistry());

  it('routes upgrades through the default registry that registry() and discoveryProxy() share', async () => {
    await using inst = await wsInstance('from-default');
    const ws = websocketGateway();
    assert.equal(ws.routeTable, undefined, 'nothing is built before the first upgrade or ready()');
    assert.equal(ws.stats().pinned, 0);
    await using gateway = await serve(createServer((_req, res) => res.writeHead(404).end()));
    ws.attach(gateway.server);
    try {
      const shared = await defaultRegistry();
      await shared.register({ service: 'live', instanceId: 'd1', url: inst.url, routes: LIVE });
      assert.equal(await askThrough(gateway.url, '/live/room'), 'from-default');
      assert.equal(ws.registry, shared);
      assert.ok(ws.routeTable !== undefined && ws.messageTable !== undefined);
      assert.equal(ws.stats().servers, 1);
    } finally {
      const shared = await defaultRegistry();
      await ws.close();
      await ws.close(); // idempotent: does not give a lease back twice
      await assert.rejects(
        shared.register({ service: 'z', url: 'http://127.0.0.1:9' }),
        { code: 'ERR_FG_CLOSED' },
        'the last lease closed it',
      );
    }
  });

  it('a registry option still wins over the default one', async () => {
    await using mine = await wsInstance('from-mine');
    await using other = await wsInstance('from-default');
    await using own = new Registry({ backend: new MemoryBackend(), ownsBackend: true });
    await own.ready();
    await own.register({ service: 'live', instanceId: 'm1', url: mine.url, routes: LIVE });
    const probe = leaseDefaultRegistry();
    try {
      const shared = await probe.get();
      await shared.register({ service: 'live', instanceId: 'd1', url: other.url, routes: LIVE });
      await using ws = websocketGateway({ registry: own });
      await using gateway = await serve(createServer((_req, res) => res.writeHead(404).end()));
      ws.attach(gateway.server);
      assert.equal(await askThrough(gateway.url, '/live/room'), 'from-mine');
      assert.equal(ws.registry, own);
    } finally {
      await probe.release();
    }
  });

  it('answers an upgrade with the coded error when the default registry cannot be created, and retries later', async () => {
    const saved = process.env.REGISTRY_TYPE;
    process.env.REGISTRY_TYPE = 'NOT_A_STORE';
    await using inst = await wsInstance('from-default');
    await using ws = websocketGateway();
    await using gateway = await serve(createServer((_req, res) => res.writeHead(404).end()));
    ws.attach(gateway.server);
    try {
      assert.deepEqual(await refusedWith(gateway.url, '/live/room'), { status: 500, code: 'ERR_FG_INVALID_CONFIG' });
      assert.throws(() => ws.explainMessage('/chat'), { code: 'ERR_FG_STORE_UNAVAILABLE' });
      assert.equal(ws.routeTable, undefined);
    } finally {
      if (saved === undefined) delete process.env.REGISTRY_TYPE;
      else process.env.REGISTRY_TYPE = saved;
    }
    // The environment is fixed: the next upgrade builds the registry instead of failing for ever.
    await ws.ready();
    await (await defaultRegistry()).register({ service: 'live', instanceId: 'd1', url: inst.url, routes: LIVE });
    assert.equal(await askThrough(gateway.url, '/live/room'), 'from-default');
  });

  it('refuses upgrades with 503 ERR_FG_CLOSED once closed, without creating a registry', async () => {
    const ws = websocketGateway();
    await using gateway = await serve(createServer((_req, res) => res.writeHead(404).end()));
    // Wired by hand: the listener stays after close(), so the refusal itself is what is seen.
    gateway.server.on('upgrade', ws.upgrade);
    await ws.close();
    assert.deepEqual(await refusedWith(gateway.url, '/live/room'), { status: 503, code: 'ERR_FG_CLOSED' });
    const probe = leaseDefaultRegistry();
    try {
      assert.equal(probe.peek(), undefined, 'closing before any upgrade built nothing');
    } finally {
      await probe.release();
    }
  });
});
