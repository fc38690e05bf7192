import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { serveMessageRoutes } from './ws-routes.js';

function connect(url: string): Promise<{ ws: WebSocket; next: () => Promise<Record<string, unknown>> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const queue: string[] = [];
    const waiters: ((s: string) => void)[] = [];
    ws.on('message', (d) => {
      const w = waiters.shift();
      if (w === undefined) queue.push(d.toString());
      else w(d.toString());
    });
    const next = (): Promise<Record<string, unknown>> =>
      new Promise((res) => {
        const q = queue.shift();
        if (q !== undefined) res(JSON.parse(q));
        else waiters.push((s) => res(JSON.parse(s)));
      });
    ws.once('open', () => resolve({ ws, next }));
    ws.once('error', reject);
  });
}

describe('serveMessageRoutes', () => {
  it('dispatches by pattern (most specific first) and answers {id,data} or {id,error}', async () => {
    await using srv = await serveMessageRoutes(
      { port: 0 },
      {
        '/chat/:room': (data, ctx) => ({ room: ctx.params.room, data, conn: ctx.connectionId ?? null }),
        '/chat/lobby': async () => 'lobby',
        '/fail/**': () => {
          throw Object.assign(new Error('nope'), { code: 'E_NOPE' });
        },
        '/push/*': (_data, ctx) => {
          ctx.push({ hello: true }, '/push/news');
          return 'pushed';
        },
      },
    );
    const { ws, next } = await connect(`ws://127.0.0.1:${srv.port}/ws`);
    ws.send(JSON.stringify({ path: '/chat/r1', id: 1, data: [1] }));
    assert.deepEqual(await next(), { id: 1, data: { room: 'r1', data: [1], conn: null } });
    ws.send(JSON.stringify({ path: '/chat/lobby', id: 'b' }));
    assert.deepEqual(await next(), { id: 'b', data: 'lobby' });
    ws.send(JSON.stringify({ path: '/fail/x/y', id: 2 }));
    assert.deepEqual(await next(), { id: 2, error: { code: 'E_NOPE', message: 'nope' } });
    ws.send(JSON.stringify({ path: '/unknown', id: 3 }));
    assert.equal(((await next()) as { error: { code: string } }).error.code, 'ERR_FG_NO_ROUTE');
    ws.send('garbage');
    assert.deepEqual((await next()).id, null);
    ws.send(JSON.stringify({ path: '/push/x', id: 4 }));
    assert.deepEqual(await next(), { path: '/push/news', data: { hello: true } });
    assert.deepEqual(await next(), { id: 4, data: 'pushed' });
    assert.equal(srv.connections, 1);
    assert.deepEqual(srv.routeSpecs({ public: false })[0], {
      method: '*',
      path: '/chat/:room',
      protocol: 'ws',
      public: false,
    });
    ws.close();
  });

  it('shares an existing server: only its path is taken, and close leaves the server running', async () => {
    const server = createServer((_req, res) => res.end('http ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    try {
      const srv = await serveMessageRoutes(server, { '/x': () => 1 }, { path: '/messages' });
      const { ws, next } = await connect(`ws://127.0.0.1:${port}/messages`);
      ws.send(JSON.stringify({ path: '/x', id: 1 }));
      assert.deepEqual(await next(), { id: 1, data: 1 });
      await assert.rejects(connect(`ws://127.0.0.1:${port}/other`), /404/);
      const closed = new Promise((r) => ws.once('close', r));
      await srv.close();
      await closed;
      assert.equal(server.listenerCount('upgrade'), 0);
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'http ok');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
