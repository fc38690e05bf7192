/**
 * Raw WebSocket upgrade proxying through `websocketGateway()`: real `ws` clients, real `ws`
 * upstream servers on 127.0.0.1, a real Registry on a MemoryBackend.
 */
import assert from 'node:assert/strict';
import { createServer as createNetServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { FakeClock } from '../lib/clock.js';
import type { Registry } from '../lib/registry/registry.js';
import {
  closedWith,
  type EchoInstance,
  Inbox,
  openClient,
  registerInstance,
  startEchoInstance,
  startGateway,
  startRegistry,
  waitFor,
} from './websocket-fleet.js';

const LIVE = [{ method: 'GET', path: '/live/**' }];

interface Echo {
  instance: string;
  path: string;
  data: string;
}

async function roundTrip(ws: WebSocket, inbox: Inbox, text: string): Promise<Echo> {
  ws.send(text);
  return inbox.json<Echo>();
}

describe('websocket upgrade proxy: echo', () => {
  let registry: Registry;
  let echo: EchoInstance;
  before(async () => {
    registry = await startRegistry();
    echo = await startEchoInstance('e1');
    await registerInstance(registry, 'live', echo, LIVE);
  });
  after(async () => {
    await echo.close();
    await registry.close();
  });

  for (const kind of ['http', 'express'] as const) {
    it(`echoes through a ${kind === 'http' ? 'bare node:http' : 'Express app'} server`, async () => {
      await using gw = await startGateway({ registry }, kind);
      const ws = await openClient(`${gw.base}/live/room?x=1`);
      const inbox = new Inbox(ws);
      const reply = await roundTrip(ws, inbox, 'hello');
      assert.deepEqual(reply, { instance: 'e1', path: '/live/room?x=1', data: 'hello' });
      // Binary frames and a larger payload pass unchanged.
      const big = Buffer.alloc(40_000, 7);
      ws.send(big);
      const back = await new Promise<Buffer>((resolve) => ws.once('message', (d) => resolve(d as Buffer)));
      assert.equal(Buffer.compare(back, big), 0);
      assert.equal(gw.ws.stats().tunnels, 1);
      assert.equal(gw.server.listenerCount('upgrade'), 1);
      if (kind === 'express') {
        const res = await fetch(`${gw.base.replace('ws:', 'http:')}/hello`);
        assert.deepEqual(await res.json(), { hello: 'express' });
      }
      ws.close(1000, 'bye');
      assert.equal((await closedWith(ws)).code, 1000);
      await waitFor(() => gw.ws.stats().pinned === 0 && echo.open === 0, 'tunnel gone');
    });
  }

  it('attach is idempotent and its listener goes away with the server', async () => {
    await using gw = await startGateway({ registry });
    gw.ws.attach(gw.server);
    gw.ws.attach(gw.server);
    assert.equal(gw.server.listenerCount('upgrade'), 1);
    assert.equal(gw.ws.stats().servers, 1);
    await new Promise<void>((resolve) => gw.server.close(() => resolve()));
    assert.equal(gw.server.listenerCount('upgrade'), 0);
    assert.equal(gw.ws.stats().servers, 0);
  });
});

describe('websocket upgrade proxy: balancing and pinning', () => {
  let registry: Registry;
  let echoes: EchoInstance[];
  before(async () => {
    registry = await startRegistry();
    echoes = await Promise.all(['a', 'b', 'c'].map((id) => startEchoInstance(id)));
    for (const e of echoes) await registerInstance(registry, 'live', e, LIVE);
  });
  after(async () => {
    for (const e of echoes) await e.close();
    await registry.close();
  });

  it('spreads 30 connections 10/10/10 by live connections and pins each one', async () => {
    await using gw = await startGateway({ registry, messagesPerSecond: 0 });
    const clients = await Promise.all(Array.from({ length: 30 }, (_, i) => openClient(`${gw.base}/live/${i}`)));
    try {
      assert.deepEqual(
        echoes.map((e) => e.open),
        [10, 10, 10],
      );
      assert.deepEqual(gw.ws.stats().instances, { live: { a: 10, b: 10, c: 10 } });
      // Every message of one connection reaches the same instance.
      const ws = clients[0]!;
      const inbox = new Inbox(ws);
      const seen = new Set<string>();
      for (let i = 0; i < 50; i++) seen.add((await roundTrip(ws, inbox, `m${i}`)).instance);
      assert.equal(seen.size, 1);
      // Closing 5 connections of one instance makes it the least loaded: the next 5 go there.
      const target = [...seen][0]!;
      const onTarget: WebSocket[] = [];
      for (const c of clients) {
        if (onTarget.length === 5) break;
        const r = await roundTrip(c, new Inbox(c), 'who');
        if (r.instance === target) onTarget.push(c);
        c.removeAllListeners('message');
      }
      for (const c of onTarget) c.close();
      await waitFor(() => gw.ws.stats().instances.live?.[target] === 5, 'five closed');
      const fresh = await Promise.all(Array.from({ length: 5 }, () => openClient(`${gw.base}/live/x`)));
      assert.equal(gw.ws.stats().instances.live?.[target], 10);
      for (const c of fresh) c.close();
    } finally {
      for (const c of clients) c.terminate();
    }
    await waitFor(() => gw.ws.stats().pinned === 0, 'all closed');
  });

  it('never pins to a DRAINING instance but lets its connections finish', async () => {
    await using gw = await startGateway({ registry });
    const first = await Promise.all(Array.from({ length: 3 }, () => openClient(`${gw.base}/live/d`)));
    await registry.setStatus('live', 'a', 'DRAINING');
    try {
      const more = await Promise.all(Array.from({ length: 6 }, () => openClient(`${gw.base}/live/d`)));
      const counts = gw.ws.stats().instances.live!;
      assert.equal(counts.a, 1, 'only the connection opened before draining');
      assert.equal(counts.b, 4);
      assert.equal(counts.c, 4);
      for (const c of [...first, ...more]) assert.equal(c.readyState, WebSocket.OPEN);
      for (const c of more) c.close();
    } finally {
      await registry.setStatus('live', 'a', 'UP');
      for (const c of first) c.close();
    }
    await waitFor(() => gw.ws.stats().pinned === 0, 'all closed');
  });
});

describe('websocket upgrade proxy: instances that go away', () => {
  it('closes with 1012 when the instance dies, is deregistered or goes DOWN; new connections go elsewhere', async () => {
    await using registry = await startRegistry();
    const echoes = await Promise.all(['k1', 'k2', 'k3', 'k4'].map((id) => startEchoInstance(id)));
    for (const e of echoes) await registerInstance(registry, 'live', e, LIVE);
    await using gw = await startGateway({ registry });
    try {
      const clients = await Promise.all(Array.from({ length: 8 }, () => openClient(`${gw.base}/live/k`)));
      const byInstance = new Map<string, WebSocket[]>();
      for (const c of clients) {
        const { instance } = await roundTrip(c, new Inbox(c), 'who');
        byInstance.set(instance, [...(byInstance.get(instance) ?? []), c]);
        c.removeAllListeners('message');
      }
      assert.deepEqual(
        [...byInstance.values()].map((v) => v.length),
        [2, 2, 2, 2],
      );

      // 1. crash: the upstream socket closes without a close frame.
      const crashed = byInstance.get('k1')!.map((c) => closedWith(c));
      await echoes[0]!.kill();
      for (const c of await Promise.all(crashed)) assert.equal(c.code, 1012);
      // 2. deregistered while still running.
      const dereg = byInstance.get('k2')!.map((c) => closedWith(c));
      await registry.deregister('live', 'k2');
      for (const c of await Promise.all(dereg)) assert.deepEqual(c, { code: 1012, reason: 'service restart' });
      // 3. marked DOWN by health checks.
      const down = byInstance.get('k3')!.map((c) => closedWith(c));
      await registry.setStatus('live', 'k3', 'DOWN');
      for (const c of await Promise.all(down)) assert.equal(c.code, 1012);

      for (const c of byInstance.get('k4')!) assert.equal(c.readyState, WebSocket.OPEN);
      // k1 is still registered but refused the connection: retried on k4 without the client noticing.
      const again = await Promise.all(Array.from({ length: 3 }, () => openClient(`${gw.base}/live/k`)));
      for (const c of again) assert.equal((await roundTrip(c, new Inbox(c), 'x')).instance, 'k4');
      for (const c of [...again, ...byInstance.get('k4')!]) c.close();
      await waitFor(() => gw.ws.stats().pinned === 0, 'all closed');
    } finally {
      for (const e of echoes) await e.close();
    }
  });
});

describe('websocket upgrade proxy: failures become coded HTTP answers', () => {
  let registry: Registry;
  before(async () => {
    registry = await startRegistry();
  });
  after(async () => {
    await registry.close();
  });

  async function refusal(url: string): Promise<{ status: number; body: { error: { code: string } } }> {
    const err = (await openClient(url).then(
      (ws) => {
        ws.terminate();
        throw new Error('upgrade unexpectedly accepted');
      },
      (e: unknown) => e,
    )) as { status: number; body: string };
    return { status: err.status, body: JSON.parse(err.body) };
  }

  it('answers 404, 400, 503, 502 and 504 as JSON on the raw socket', async () => {
    // Accepts, reads and never answers.
    const hang = createNetServer((s: Socket) => {
      s.on('error', () => {});
      s.resume();
    });
    await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', () => resolve()));
    const hangPort = (hang.address() as { port: number }).port;
    const dead = createNetServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', () => resolve()));
    const deadPort = (dead.address() as { port: number }).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    await registerInstance(registry, 'slow', { id: 's1', url: `http://127.0.0.1:${hangPort}` }, [
      { method: 'GET', path: '/slow/**' },
    ]);
    await registerInstance(registry, 'gone', { id: 'g1', url: `http://127.0.0.1:${deadPort}` }, [
      { method: 'GET', path: '/gone/**' },
    ]);
    await registerInstance(registry, 'sick', { id: 'x1', url: 'http://127.0.0.1:9' }, [
      { method: 'GET', path: '/sick/**' },
    ]);
    await registry.setStatus('sick', 'x1', 'DOWN');
    await using gw = await startGateway({ registry, handshakeTimeoutMs: 300 });
    try {
      const nf = await refusal(`${gw.base}/nowhere`);
      assert.equal(nf.status, 404);
      assert.equal(nf.body.error.code, 'ERR_FG_NO_ROUTE');
      const bad = await refusal(`${gw.base}/slow/%2e%2e%2fetc`);
      assert.equal(bad.status, 400);
      const sick = await refusal(`${gw.base}/sick/1`);
      assert.equal(sick.status, 503);
      assert.equal(sick.body.error.code, 'ERR_FG_NO_HEALTHY_INSTANCE');
      const refused = await refusal(`${gw.base}/gone/1`);
      assert.equal(refused.status, 502);
      assert.equal(refused.body.error.code, 'ERR_FG_UPSTREAM_CONNECT');
      const slow = await refusal(`${gw.base}/slow/1`);
      assert.equal(slow.status, 504);
      assert.equal(slow.body.error.code, 'ERR_FG_UPSTREAM_TIMEOUT');
      await waitFor(() => gw.ws.stats().pinned === 0 && gw.ws.stats().handshakes === 0, 'nothing pending');
    } finally {
      await new Promise<void>((resolve) => hang.close(() => resolve()));
    }
  });
});

describe('websocket upgrade proxy: heartbeat and limits', () => {
  let registry: Registry;
  let echo: EchoInstance;
  before(async () => {
    registry = await startRegistry();
    echo = await startEchoInstance('h1');
    await registerInstance(registry, 'live', echo, LIVE);
  });
  after(async () => {
    await echo.close();
    await registry.close();
  });

  it('pings idle clients on the clock and cuts the ones that never answer', async () => {
    const clock = new FakeClock();
    await using gw = await startGateway({ registry, clock, heartbeatIntervalMs: 30_000 });
    const healthy = await openClient(`${gw.base}/live/ok`);
    const halfOpen = await openClient(`${gw.base}/live/dead`, { autoPong: false });
    const pinged = new Promise<void>((resolve) => halfOpen.once('ping', () => resolve()));
    const cut = closedWith(halfOpen);
    await clock.advance(30_000); // both silent so far: marked
    await clock.advance(30_000); // pinged
    await pinged;
    // The healthy client's pong passed the gateway (it is relayed on to the upstream).
    await waitFor(() => echo.pongs === 1, 'pong relayed');
    await clock.advance(30_000); // no pong from halfOpen: cut
    assert.equal((await cut).code, 1006);
    assert.equal(healthy.readyState, WebSocket.OPEN);
    await waitFor(() => gw.ws.stats().tunnels === 1, 'half-open tunnel removed');
    healthy.close();
  });

  it('closes with 1009 past maxPayload and 1008 when the message rate keeps being exceeded', async () => {
    await using gw = await startGateway({ registry, maxPayload: 1024, messagesPerSecond: 5, rateLimitStrikes: 3 });
    const big = await openClient(`${gw.base}/live/big`);
    const bigClosed = closedWith(big);
    big.send(Buffer.alloc(2048));
    assert.equal((await bigClosed).code, 1009);
    const chatty = await openClient(`${gw.base}/live/chatty`);
    const chattyClosed = closedWith(chatty);
    for (let i = 0; i < 30; i++) chatty.send(`m${i}`);
    assert.deepEqual(await chattyClosed, { code: 1008, reason: 'message rate limit exceeded' });
    await waitFor(() => gw.ws.stats().pinned === 0 && echo.open === 0, 'all closed');
  });
});

describe('websocket gateway: close()', () => {
  it('sends 1001 to raw and message clients, refuses new upgrades, and resolves when every socket is gone', async () => {
    await using registry = await startRegistry();
    await using echo = await startEchoInstance('z1');
    await registerInstance(registry, 'live', echo, LIVE);
    await registerInstance(registry, 'chat', echo, [{ method: '*', path: '/chat/*', protocol: 'ws', public: true }], {
      ws_path: '/any',
    });
    await using gw = await startGateway({ registry });
    const raw = await openClient(`${gw.base}/live/z`);
    const msg = await openClient(`${gw.base}/ws`);
    const inbox = new Inbox(msg);
    msg.send(JSON.stringify({ path: '/chat/x', id: 1 }));
    assert.equal((await inbox.json<Echo>()).instance, 'z1', 'the echo instance answers the link too');
    assert.equal(echo.open, 2);
    const closes = [closedWith(raw), closedWith(msg)];
    await gw.ws.close();
    assert.deepEqual(
      (await Promise.all(closes)).map((c) => c.code),
      [1001, 1001],
    );
    assert.deepEqual(gw.ws.stats(), {
      tunnels: 0,
      handshakes: 0,
      clients: 0,
      upstreams: 0,
      pinned: 0,
      instances: {},
      servers: 0,
      dropped: { forged_reply: 0, unknown_reply: 0, malformed: 0 },
    });
    await waitFor(() => echo.open === 0, 'upstream sockets closed');
    assert.equal(gw.server.listenerCount('upgrade'), 0);
  });
});
