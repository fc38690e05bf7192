import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { decode, encode } from '@msgpack/msgpack';
import WebSocket from 'ws';
import { FakeClock } from '../clock.js';
import type { ConnectionContext, LinkCloseInfo } from './ws-link.js';
import { serveMessageRoutes } from './ws-routes.js';

function connect(
  url: string,
  protocol?: string,
): Promise<{ ws: WebSocket; next: () => Promise<Record<string, unknown>> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocol === undefined ? [] : [protocol]);
    const parse = (d: WebSocket.RawData): string =>
      protocol === 'fleetgate.msgpack' ? JSON.stringify(decode(d as Buffer)) : d.toString();
    const queue: string[] = [];
    const waiters: ((s: string) => void)[] = [];
    ws.on('message', (d) => {
      const w = waiters.shift();
      if (w === undefined) queue.push(parse(d));
      else w(parse(d));
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

  it('runs onOpen and onClose once per link, with socket state between them', async () => {
    const events: string[] = [];
    let closed: LinkCloseInfo | undefined;
    await using srv = await serveMessageRoutes(
      { port: 0 },
      {
        '/chat/join': (data, ctx) => {
          ctx.socket.set('user', (data as { user: string }).user);
          return 'joined';
        },
        '/chat/say': (data, ctx) => `${ctx.socket.mustGet<string>('user')}: ${String(data)}`,
        '/whoami': (_data, ctx) => ({ conn: ctx.connectionId, repinned: ctx.repinned, n: ctx.socket.get('n') }),
      },
      {
        onOpen: async (ctx: ConnectionContext) => {
          await new Promise((r) => setTimeout(r, 20));
          ctx.socket.set('n', 1);
          events.push(`open ${ctx.connectionId} ${ctx.repinned}`);
        },
        onClose: (ctx, info) => {
          events.push(`close ${ctx.socket.get('user')}`);
          closed = info;
        },
      },
    );
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/ws`, {
      headers: { 'x-fleetgate-connection': 'c-1', 'x-fleetgate-repinned': '1' },
    });
    const replies: unknown[] = [];
    ws.on('message', (d) => replies.push(JSON.parse(d.toString())));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ path: '/whoami', id: 1 }));
    ws.send(JSON.stringify({ path: '/chat/say', id: 2, data: 'early' }));
    ws.send(JSON.stringify({ path: '/chat/join', id: 3, data: { user: 'alice' } }));
    ws.send(JSON.stringify({ path: '/chat/say', id: 4, data: 'hi' }));
    const deadline = Date.now() + 5000;
    while (replies.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    // Handlers run concurrently: replies are matched by id, not order.
    replies.sort((a, b) => (a as { id: number }).id - (b as { id: number }).id);
    assert.deepEqual(replies, [
      { id: 1, data: { conn: 'c-1', repinned: true, n: 1 } },
      {
        id: 2,
        error: { code: 'ERR_FG_WS_SOCKET_VALUE_MISSING', message: 'no value "user" is stored for this connection' },
      },
      { id: 3, data: 'joined' },
      { id: 4, data: 'alice: hi' },
    ]);
    ws.close(1000);
    while (closed === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(events, ['open c-1 true', 'close alice']);
    assert.equal(closed?.code, 1000);
    assert.ok((closed?.durationMs ?? -1) >= 0);
  });

  it('asks the client with ctx.request: answers, errors, timeouts and a closed link', async () => {
    const clock = new FakeClock();
    const outcomes: unknown[] = [];
    const settle = (p: Promise<unknown>): Promise<void> =>
      p.then(
        (v) => void outcomes.push({ ok: v }),
        (e: { code?: string }) => void outcomes.push({ err: e.code }),
      );
    let ctxOf: ConnectionContext | undefined;
    await using srv = await serveMessageRoutes(
      { port: 0 },
      {
        '/start': (_data, ctx) => {
          ctxOf = ctx;
          return 'started';
        },
      },
      { clock, requestTimeoutMs: 1000 },
    );
    const { ws, next } = await connect(`ws://127.0.0.1:${srv.port}/ws`, 'fleetgate.msgpack');
    assert.equal(ws.protocol, 'fleetgate.msgpack');
    ws.send(encode({ path: '/start', id: 'a' }));
    assert.deepEqual(await next(), { id: 'a', data: 'started' });
    const ctx = ctxOf!;
    assert.equal(ctx.encoding, 'msgpack');
    const answered = settle(ctx.request({ q: 1 }, { path: '/monitor/start' }));
    const ask1 = await next();
    assert.deepEqual({ ...ask1, id: typeof ask1.id }, { path: '/monitor/start', id: 'number', data: { q: 1 } });
    ws.send(encode({ id: ask1.id, data: { cpu: 3 } }));
    await answered;
    const refused = settle(ctx.request(null, { path: '/monitor/start' }));
    const ask2 = await next();
    ws.send(encode({ id: ask2.id, error: { code: 'E_NO', message: 'no' } }));
    await refused;
    const late = settle(ctx.request(null, { path: '/monitor/start', timeoutMs: 50 }));
    await next();
    await clock.advance(50);
    await late;
    const cut = settle(ctx.request(null, { path: '/monitor/start' }));
    await next();
    ws.close();
    await cut;
    await settle(ctx.request(null, { path: '/monitor/start' }));
    assert.deepEqual(outcomes, [
      { ok: { cpu: 3 } },
      { err: 'E_NO' },
      { err: 'ERR_FG_WS_REQUEST_TIMEOUT' },
      { err: 'ERR_FG_WS_CLIENT_GONE' },
      { err: 'ERR_FG_WS_CLIENT_GONE' },
    ]);
    assert.equal(ctx.signal.aborted, true);
  });
});
