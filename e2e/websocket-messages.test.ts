/**
 * Message routing (Eurus model) through `websocketGateway()`: real `ws` clients on the gateway's
 * `/ws` endpoint, services served by `serveMessageRoutes()` on 127.0.0.1, a real Registry.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type WebSocket from 'ws';
import { type MessageRoutesServer, serveMessageRoutes } from '../lib/client/ws-routes.js';
import { FakeClock } from '../lib/clock.js';
import type { RouteSpec } from '../lib/registry/model.js';
import type { Registry } from '../lib/registry/registry.js';
import {
  closedWith,
  type GatewayServer,
  Inbox,
  openClient,
  startGateway,
  startRegistry,
  waitFor,
} from './websocket-fleet.js';

interface Reply {
  id?: string | number | null;
  data?: { instance: string; room?: string; echo?: unknown };
  error?: { code: string; message: string; service?: string };
}

/** A service instance answering `{instance, room, echo}` on its message routes. */
async function startService(
  registry: Registry,
  service: string,
  id: string,
  routes: RouteSpec[],
  wsPath = '/ws',
): Promise<MessageRoutesServer> {
  const handlers = Object.fromEntries(
    routes.map((r) => [
      r.path,
      (data: unknown, ctx: { params: Record<string, string> }) => ({ instance: id, room: ctx.params.room, echo: data }),
    ]),
  );
  const srv = await serveMessageRoutes({ port: 0 }, handlers, { path: wsPath });
  await registry.register({
    service,
    instanceId: id,
    url: `http://127.0.0.1:${srv.port}`,
    routes,
    metadata: wsPath === '/ws' ? {} : { ws_path: wsPath },
  });
  return srv;
}

const CHAT: RouteSpec[] = [
  { method: '*', path: '/chat/:room', protocol: 'ws', public: true },
  { method: '*', path: '/chat/admin/**', protocol: 'ws', public: false },
];
const NEWS: RouteSpec[] = [{ method: '*', path: '/news/**', protocol: 'ws', public: true }];

describe('websocket message routing', () => {
  let registry: Registry;
  let services: MessageRoutesServer[];
  let gw: GatewayServer;
  before(async () => {
    registry = await startRegistry();
    services = [
      await startService(registry, 'chat', 'c1', CHAT),
      await startService(registry, 'chat', 'c2', CHAT),
      await startService(registry, 'chat', 'c3', CHAT),
      await startService(registry, 'news', 'n1', NEWS, '/messages'),
    ];
    gw = await startGateway({ registry, messagesPerSecond: 0 });
  });
  after(async () => {
    await gw.close();
    for (const s of services) await s.close();
    await registry.close();
  });

  it('round-trips {path,id,data} and serves two services over one client connection', async () => {
    const ws = await openClient(`${gw.base}/ws`);
    const inbox = new Inbox(ws);
    ws.send(JSON.stringify({ path: '/chat/lobby', id: 1, data: { text: 'hi' } }));
    const chat = await inbox.json<Reply>();
    assert.equal(chat.id, 1);
    assert.equal(chat.data?.room, 'lobby');
    assert.deepEqual(chat.data?.echo, { text: 'hi' });
    ws.send(JSON.stringify({ path: '/news/today', id: 'n-1', data: null }));
    const news = await inbox.json<Reply>();
    assert.deepEqual(news, { id: 'n-1', data: { instance: 'n1', echo: null } });
    assert.equal(gw.ws.stats().upstreams, 2);
    ws.close();
    await waitFor(() => gw.ws.stats().upstreams === 0 && gw.ws.stats().clients === 0, 'links closed');
  });

  it('answers refused frames with coded error frames and keeps the connection', async () => {
    const ws = await openClient(`${gw.base}/ws`);
    const inbox = new Inbox(ws);
    ws.send(JSON.stringify({ path: '/chat/admin/kick', id: 2, data: {} }));
    assert.deepEqual((await inbox.json<Reply>()).error?.code, 'ERR_FG_FORBIDDEN');
    ws.send(JSON.stringify({ path: '/nothing/here', id: 3 }));
    const unknown = await inbox.json<Reply>();
    assert.equal(unknown.id, 3);
    assert.equal(unknown.error?.code, 'ERR_FG_NO_ROUTE');
    const malformed: (string | Buffer)[] = [
      'not json',
      '[1,2]',
      JSON.stringify({ path: '/chat/x' }),
      JSON.stringify({ id: 5, path: 'no-slash' }),
      Buffer.from([1, 2, 3]),
    ];
    for (const m of malformed) {
      ws.send(m);
      const reply = await inbox.json<Reply>();
      assert.equal(reply.error?.code, 'ERR_FG_INVALID_BODY', `for ${String(m)}`);
    }
    // A frame without path is an answer to a request the gateway sent; it sent none: dropped, counted.
    const before = gw.ws.stats().dropped.unknown_reply;
    ws.send(JSON.stringify({ id: 4, data: 'answer to nothing' }));
    // Still usable afterwards, and nothing answered the stray reply.
    ws.send(JSON.stringify({ path: '/chat/ok', id: 6 }));
    assert.equal((await inbox.json<Reply>()).data?.room, 'ok');
    assert.equal(gw.ws.stats().dropped.unknown_reply, before + 1);
    ws.close();
    await waitFor(() => gw.ws.stats().clients === 0, 'client gone');
  });

  it('explains message paths without pinning anything', () => {
    const ok = gw.ws.explainMessage('/chat/lobby');
    assert.equal(ok.servable, true);
    assert.deepEqual(ok.match, {
      pattern: '/chat/:room',
      service: 'chat',
      isStatic: false,
      public: true,
      params: { room: 'lobby' },
    });
    assert.deepEqual(ok.candidates.map((c) => c.instanceId).sort(), ['c1', 'c2', 'c3']);
    assert.ok(ok.chosen !== undefined);
    assert.equal(gw.ws.stats().pinned, 0);
    assert.equal(gw.ws.explainMessage('/chat/admin/kick').refusal?.code, 'ERR_FG_FORBIDDEN');
    assert.equal(gw.ws.explainMessage('/nothing/here').refusal?.code, 'ERR_FG_NO_ROUTE');
    assert.equal(gw.ws.explainMessage('/chat/a%2Fb').refusal?.code, 'ERR_FG_INVALID_BODY');
  });

  it('treats static gateway ws routes as public', async () => {
    await using gw2 = await startGateway({
      registry,
      staticRoutes: [{ path: '/staff/*', service: 'chat', protocol: 'ws' }],
    });
    const ws = await openClient(`${gw2.base}/ws`);
    const inbox = new Inbox(ws);
    ws.send(JSON.stringify({ path: '/staff/x', id: 9 }));
    // Routed to chat, whose handlers do not know /staff/*: the service's own answer comes back.
    const reply = await inbox.json<Reply>();
    assert.equal(reply.id, 9);
    assert.match(reply.error?.message ?? '', /no handler for \/staff\/x/);
    ws.close();
  });

  it('pins clients by least connections and keeps 1,000 messages on one instance', async () => {
    const clients = await Promise.all(Array.from({ length: 6 }, () => openClient(`${gw.base}/ws`)));
    const inboxes = clients.map((c) => new Inbox(c));
    const first: string[] = [];
    for (let i = 0; i < clients.length; i++) {
      clients[i]!.send(JSON.stringify({ path: '/chat/r', id: 0 }));
      first.push((await inboxes[i]!.json<Reply>()).data!.instance);
    }
    assert.deepEqual(first.sort(), ['c1', 'c1', 'c2', 'c2', 'c3', 'c3']);
    const ws = clients[0]!;
    const inbox = inboxes[0]!;
    for (let i = 1; i <= 1000; i++) ws.send(JSON.stringify({ path: `/chat/r${i % 7}`, id: i, data: i }));
    const instances = new Set<string>();
    const ids = new Set<number>();
    for (let i = 1; i <= 1000; i++) {
      const r = await inbox.json<Reply>();
      assert.equal(r.data?.echo, r.id);
      instances.add(r.data!.instance);
      ids.add(r.id as number);
    }
    assert.equal(ids.size, 1000);
    assert.equal(instances.size, 1);
    for (const c of clients) c.close();
    await waitFor(() => gw.ws.stats().pinned === 0, 'links closed');
  });
});

describe('websocket message routing: instances that go away', () => {
  it('sends ERR_FG_UPSTREAM_CONNECT for the service and re-pins the next message to a live instance', async () => {
    await using registry = await startRegistry();
    const a = await startService(registry, 'chat', 'a', CHAT);
    const b = await startService(registry, 'chat', 'b', CHAT);
    await using gw = await startGateway({ registry });
    try {
      const ws = await openClient(`${gw.base}/ws`);
      const inbox = new Inbox(ws);
      ws.send(JSON.stringify({ path: '/chat/x', id: 1 }));
      const pinned = (await inbox.json<Reply>()).data!.instance;
      const victim = pinned === 'a' ? a : b;

      // The instance dies: its socket closes under the gateway.
      await victim.close();
      const lost = await inbox.json<Reply>();
      assert.equal(lost.id, undefined);
      assert.equal(lost.error?.code, 'ERR_FG_UPSTREAM_CONNECT');
      assert.equal(lost.error?.service, 'chat');
      ws.send(JSON.stringify({ path: '/chat/x', id: 2 }));
      const next = await inbox.json<Reply>();
      assert.equal(next.id, 2);
      const survivor = next.data!.instance;
      assert.notEqual(survivor, pinned);

      // The survivor is deregistered (still running): same story, and no instance is left.
      await registry.deregister('chat', survivor);
      assert.equal((await inbox.json<Reply>()).error?.code, 'ERR_FG_UPSTREAM_CONNECT');
      await registry.deregister('chat', pinned);
      ws.send(JSON.stringify({ path: '/chat/x', id: 3 }));
      assert.equal((await inbox.json<Reply>()).error?.code, 'ERR_FG_NO_ROUTE');
      ws.close();
      await waitFor(() => gw.ws.stats().pinned === 0 && gw.ws.stats().clients === 0, 'all closed');
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('websocket message routing: limits and heartbeat', () => {
  let registry: Registry;
  let service: MessageRoutesServer;
  before(async () => {
    registry = await startRegistry();
    service = await startService(registry, 'chat', 'l1', CHAT);
  });
  after(async () => {
    await service.close();
    await registry.close();
  });

  it('refuses messages over the rate with error frames, then closes with 1008', async () => {
    await using gw = await startGateway({ registry, messagesPerSecond: 2, messageBurst: 2, rateLimitStrikes: 3 });
    const ws = await openClient(`${gw.base}/ws`);
    const inbox = new Inbox(ws);
    const closed = closedWith(ws);
    for (let i = 0; i < 10; i++) ws.send(JSON.stringify({ path: '/chat/x', id: i }));
    assert.deepEqual(await closed, { code: 1008, reason: 'message rate limit exceeded' });
    const replies: Reply[] = [];
    while (inbox.size > 0) replies.push(JSON.parse(await inbox.next()) as Reply);
    const limited = replies.filter((r) => r.error?.code === 'ERR_FG_RATE_LIMITED').map((r) => r.id);
    assert.deepEqual(limited, [2, 3, 4]);
  });

  it('closes with 1009 past maxPayload', async () => {
    await using gw = await startGateway({ registry, maxPayload: 1024 });
    const ws = await openClient(`${gw.base}/ws`);
    const closed = closedWith(ws);
    ws.send(JSON.stringify({ path: '/chat/x', id: 1, data: 'x'.repeat(2000) }));
    assert.equal((await closed).code, 1009);
  });

  it('terminates clients that stop answering pings', async () => {
    const clock = new FakeClock();
    await using gw = await startGateway({ registry, clock, heartbeatIntervalMs: 30_000 });
    const healthy: WebSocket = await openClient(`${gw.base}/ws`);
    const silent = await openClient(`${gw.base}/ws`, { autoPong: false });
    const pinged = new Promise<void>((resolve) => healthy.once('ping', () => resolve()));
    const cut = closedWith(silent);
    await clock.advance(30_000);
    await pinged;
    // The healthy client's automatic pong went out before this ping (one ordered stream), so
    // once the gateway's pong to it is back, the gateway has seen the client's pong.
    const ponged = new Promise<void>((resolve) => healthy.once('pong', () => resolve()));
    healthy.ping();
    await ponged;
    await clock.advance(30_000);
    assert.equal((await cut).code, 1006);
    assert.equal(healthy.readyState, healthy.OPEN);
    healthy.close();
    await waitFor(() => gw.ws.stats().clients === 0, 'clients gone');
  });
});

describe('websocket message routing: authentic replies', () => {
  it('drops (and counts) a reply from an instance that did not receive that request id', async () => {
    await using registry = await startRegistry();
    const EVIL: RouteSpec[] = [{ method: '*', path: '/evil/**', protocol: 'ws', public: true }];
    const chat = await serveMessageRoutes(
      { port: 0 },
      {
        // Answers late, so the forgery arrives first.
        '/chat/:room': async () => {
          await new Promise((r) => setTimeout(r, 50));
          return { from: 'chat' };
        },
      },
    );
    let evilWs: import('ws').WebSocket | undefined;
    const evil = await serveMessageRoutes(
      { port: 0 },
      {
        '/evil/hello': (_data, ctx) => {
          evilWs = ctx.ws;
          return 'hi';
        },
      },
    );
    try {
      await registry.register({
        service: 'chat',
        instanceId: 'c1',
        url: `http://127.0.0.1:${chat.port}`,
        routes: CHAT,
      });
      await registry.register({
        service: 'evil',
        instanceId: 'e1',
        url: `http://127.0.0.1:${evil.port}`,
        routes: EVIL,
      });
      await using gw = await startGateway({ registry, messagesPerSecond: 0 });
      const ws = await openClient(`${gw.base}/ws`);
      const inbox = new Inbox(ws);
      ws.send(JSON.stringify({ path: '/evil/hello', id: 'e' }));
      assert.deepEqual(await inbox.json(), { id: 'e', data: 'hi' });
      ws.send(JSON.stringify({ path: '/chat/room', id: 42 }));
      // The pinned evil instance answers the chat request, twice, and replays its own old answer.
      await waitFor(() => evilWs !== undefined, 'evil link');
      evilWs!.send(JSON.stringify({ id: 42, data: { from: 'evil' } }));
      evilWs!.send(JSON.stringify({ id: 42, error: { code: 'E', message: 'forged' } }));
      evilWs!.send(JSON.stringify({ id: 'e', data: 'replayed' }));
      // A push (no id) still goes through: it answers nobody.
      evilWs!.send(JSON.stringify({ path: '/evil/news', data: 'push' }));
      assert.deepEqual(await inbox.json(), { path: '/evil/news', data: 'push' });
      assert.deepEqual(await inbox.json(), { id: 42, data: { from: 'chat' } });
      assert.equal(gw.ws.stats().dropped.forged_reply, 3);
      // chat answering the same id twice is a forgery too: one request, one reply.
      assert.equal(inbox.size, 0);
      ws.close();
    } finally {
      await chat.close();
      await evil.close();
    }
  });
});

describe('websocket message routing: hooks when the gateway re-pins a live instance', () => {
  it('closes the old pin once (onClose) and opens the new one once, marked repinned', async () => {
    await using registry = await startRegistry();
    const events: string[] = [];
    const start = async (id: string) => {
      const srv = await serveMessageRoutes(
        { port: 0 },
        {
          '/chat/:room': (data, ctx) => {
            if (data !== null) ctx.socket.set('name', data);
            return { instance: id, name: ctx.socket.get('name') ?? null };
          },
        },
        {
          onOpen: (ctx) => void events.push(`${id} open repinned=${ctx.repinned}`),
          onClose: (ctx, info) => void events.push(`${id} close ${info.code} name=${String(ctx.socket.get('name'))}`),
        },
      );
      await registry.register({ service: 'chat', instanceId: id, url: `http://127.0.0.1:${srv.port}`, routes: CHAT });
      return srv;
    };
    const a = await start('a');
    const b = await start('b');
    try {
      await using gw = await startGateway({ registry, messagesPerSecond: 0 });
      const ws = await openClient(`${gw.base}/ws`);
      const inbox = new Inbox(ws);
      ws.send(JSON.stringify({ path: '/chat/x', id: 1, data: 'eve' }));
      const first = (await inbox.json<{ data: { instance: string } }>()).data.instance;
      const second = first === 'a' ? 'b' : 'a';
      // The pinned instance leaves routing while still running: the gateway closes its link.
      await registry.deregister('chat', first);
      assert.equal((await inbox.json<Reply>()).error?.code, 'ERR_FG_UPSTREAM_CONNECT');
      ws.send(JSON.stringify({ path: '/chat/x', id: 2, data: null }));
      assert.deepEqual(await inbox.json(), { id: 2, data: { instance: second, name: null } });
      ws.close();
      await waitFor(() => events.length === 4, 'four hook calls');
      assert.deepEqual(events, [
        `${first} open repinned=false`,
        `${first} close 1001 name=eve`,
        `${second} open repinned=true`,
        `${second} close 1001 name=undefined`,
      ]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a re-pin that first meets a dead instance still opens the live one as repinned', async () => {
    await using registry = await startRegistry();
    const opens: string[] = [];
    const start = async (id: string) => {
      const srv = await serveMessageRoutes(
        { port: 0 },
        { '/chat/:room': () => ({ instance: id }) },
        { onOpen: (ctx) => void opens.push(`${id} repinned=${ctx.repinned}`) },
      );
      await registry.register({ service: 'chat', instanceId: id, url: `http://127.0.0.1:${srv.port}`, routes: CHAT });
      return srv;
    };
    const a = await start('a');
    const b = await start('b');
    try {
      await using gw = await startGateway({ registry, messagesPerSecond: 0 });
      // Two clients, one pinned to each instance (least connections), so each holds one connection.
      const x = await openClient(`${gw.base}/ws`);
      const xInbox = new Inbox(x);
      x.send(JSON.stringify({ path: '/chat/x', id: 1 }));
      const first = (await xInbox.json<{ data: { instance: string } }>()).data.instance;
      const second = first === 'a' ? 'b' : 'a';
      const y = await openClient(`${gw.base}/ws`);
      const yInbox = new Inbox(y);
      y.send(JSON.stringify({ path: '/chat/y', id: 1 }));
      assert.equal((await yInbox.json<{ data: { instance: string } }>()).data.instance, second);
      // An instance that accepts nothing and holds no connection: least connections picks it first.
      const gone = await serveMessageRoutes({ port: 0 }, {});
      const deadUrl = `http://127.0.0.1:${gone.port}`;
      await gone.close();
      await registry.register({ service: 'chat', instanceId: 'dead', url: deadUrl, routes: CHAT });
      await registry.deregister('chat', first);
      assert.equal((await xInbox.json<Reply>()).error?.code, 'ERR_FG_UPSTREAM_CONNECT');
      x.send(JSON.stringify({ path: '/chat/x', id: 2 }));
      assert.deepEqual(await xInbox.json(), { id: 2, data: { instance: second } });
      assert.deepEqual(opens.filter((o) => o.startsWith(second)).sort(), [
        `${second} repinned=false`,
        `${second} repinned=true`,
      ]);
      x.close();
      y.close();
    } finally {
      await a.close();
      await b.close();
    }
  });
});
