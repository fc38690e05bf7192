/**
 * Message routing at Eurus parity through the `fleetgate` bin: real `ws` clients, two instances
 * of the seed's chat/monitor service as child processes (e2e/support/ws-service-child.ts)
 * registered over the HTTP API. Chat state on the socket, the server asking the client, hooks
 * once per pin (an instance killed and the client re-pinned), a forged reply dropped and counted,
 * MessagePack and JSON clients side by side, and explain for a message path.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decode, encode } from '@msgpack/msgpack';
import type WebSocket from 'ws';
import { serveMessageRoutes } from '../lib/client/ws-routes.js';
import { type GatewayProcess, startGateway } from './support/gateway-process.js';
import { startWsService, type WsServiceProcess } from './support/ws-service-process.js';
import { closedWith, openClient, waitFor } from './websocket-fleet.js';

interface Frame {
  path?: string;
  id?: string | number | null;
  data?: Record<string, unknown> & { instance?: string; conn?: string };
  error?: { code: string; message: string; service?: string };
}

/** A client of the gateway's `/ws` endpoint speaking JSON or MessagePack. */
class Client {
  readonly ws: WebSocket;
  readonly #binary: boolean;
  readonly #queue: Frame[] = [];
  readonly #waiters: ((f: Frame) => void)[] = [];
  /** Answers requests the service sends (`{path,id,data}`) when set; they never reach `next()`. */
  onRequest: ((f: Frame) => unknown) | undefined;

  constructor(ws: WebSocket) {
    this.ws = ws;
    this.#binary = ws.protocol === 'fleetgate.msgpack';
    ws.on('message', (raw, isBinary) => {
      assert.equal(isBinary, this.#binary, 'frames come in the negotiated encoding');
      const f = (this.#binary ? decode(raw as Buffer) : JSON.parse(raw.toString())) as Frame;
      if (f.path !== undefined && f.id !== undefined && this.onRequest !== undefined) {
        const answer = this.onRequest(f);
        if (answer !== undefined) this.send({ id: f.id, data: answer });
        return;
      }
      const w = this.#waiters.shift();
      if (w === undefined) this.#queue.push(f);
      else w(f);
    });
  }

  static async open(base: string, protocol?: string): Promise<Client> {
    return new Client(await openClient(`${base}/ws`, {}, protocol === undefined ? [] : [protocol]));
  }

  send(frame: Record<string, unknown>): void {
    this.ws.send(this.#binary ? encode(frame) : JSON.stringify(frame));
  }

  get pending(): number {
    return this.#queue.length;
  }

  next(ms = 5000): Promise<Frame> {
    const q = this.#queue.shift();
    if (q !== undefined) return Promise.resolve(q);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no frame within ${ms} ms`)), ms);
      this.#waiters.push((f) => {
        clearTimeout(timer);
        resolve(f);
      });
    });
  }

  async ask(frame: Record<string, unknown>): Promise<Frame> {
    this.send(frame);
    return this.next();
  }
}

describe('message routing through the fleetgate bin (Eurus parity)', () => {
  let gw: GatewayProcess & { url: string };
  let a: WsServiceProcess;
  let b: WsServiceProcess;
  let base: string;
  before(async () => {
    gw = await startGateway({ LOG_LEVEL: 'warn' });
    base = gw.url.replace(/^http/, 'ws');
    [a, b] = await Promise.all(
      ['chat-a', 'chat-b'].map((label) =>
        startWsService({ gateway: gw.url, service: 'chat', label, monitorIntervalMs: 200 }),
      ),
    );
  });
  after(async () => {
    await a?.kill();
    await b?.kill();
    await gw?.stop();
  });

  it('runs the chat example: join stores the username on the socket, message reads it back', async () => {
    const explained = (await (await fetch(`${gw.url}/_fleetgate/explain?ws=1&path=/chat/join`)).json()) as {
      servable: boolean;
      match: { service: string; public: boolean };
      candidates: unknown[];
    };
    assert.equal(explained.servable, true);
    assert.deepEqual(explained.match.service, 'chat');
    assert.equal(explained.candidates.length, 2);

    const alice = await Client.open(base);
    const bob = await Client.open(base);
    const joined = await alice.ask({ path: '/chat/join', id: 'msg-1', data: { username: 'Alice', room: 'general' } });
    assert.equal(joined.id, 'msg-1');
    assert.deepEqual(
      { ...joined.data, instance: undefined, conn: undefined },
      {
        status: 'joined',
        room: 'general',
        instance: undefined,
        conn: undefined,
      },
    );
    const said = await alice.ask({ path: '/chat/message', id: 'msg-2', data: { text: 'Hello everyone!' } });
    assert.deepEqual(said, {
      id: 'msg-2',
      data: {
        status: 'sent',
        from: 'Alice',
        room: 'general',
        text: 'Hello everyone!',
        instance: joined.data!.instance,
      },
    });
    // Least connections: Bob lands on the other instance, with his own socket state.
    const bobJoined = await bob.ask({ path: '/chat/join', id: 1, data: { username: 'Bob', room: 'ops' } });
    assert.notEqual(bobJoined.data!.instance, joined.data!.instance);
    assert.equal((await bob.ask({ path: '/chat/message', id: 2, data: { text: 'hi' } })).data!.from, 'Bob');
    // A socket that never joined has nothing stored: a coded error for that message only.
    const carol = await Client.open(base);
    const early = await carol.ask({ path: '/chat/message', id: 'x', data: { text: 'who am I' } });
    assert.equal(early.error?.code, 'ERR_FG_WS_SOCKET_VALUE_MISSING');
    for (const c of [alice, bob, carol]) c.ws.close();
  });

  it('runs the monitor example: the service asks every 200 ms, three answers, disconnect ends the loop', async () => {
    const client = await Client.open(base);
    let asked = 0;
    const ids = new Set<unknown>();
    const threeAnswered = new Promise<void>((resolve) => {
      client.onRequest = (req) => {
        assert.equal(req.path, '/monitor/start');
        ids.add(req.id);
        asked++;
        if (asked === 3) {
          // Answer, then leave: the service's next request must fail with a coded error.
          client.send({ id: req.id, data: { cpu: asked, memory: 50 } });
          client.ws.close();
          resolve();
          return undefined;
        }
        return { cpu: asked, memory: 50 };
      };
    });
    const started = await client.ask({ path: '/monitor/start', id: 'm', data: null });
    assert.equal(started.data!.status, 'monitoring');
    await threeAnswered;
    const owner = started.data!.instance === 'chat-a' ? a : b;
    const end = await owner.waitForEvent((e) => e.ev === 'monitor-end' && e.conn === started.data!.conn, 'monitor end');
    assert.equal(end.answers, 3);
    assert.equal(end.code, 'ERR_FG_WS_CLIENT_GONE');
    assert.equal(ids.size, 3, 'every request had its own gateway-issued id');
    const answers = owner.eventsOf(started.data!.conn!).filter((e) => e.ev === 'answer');
    assert.deepEqual(
      answers.map((e) => e.metrics),
      [1, 2, 3].map((cpu) => ({ cpu, memory: 50 })),
    );
  });

  it('drops a forged reply id and counts it in /metrics', async () => {
    // A second service whose answer is slow: its request id is in flight while chat forges it.
    let release: (() => void) | undefined;
    const released = new Promise<void>((r) => {
      release = r;
    });
    await using slow = await serveMessageRoutes({ port: 0 }, { '/slow/*': () => released.then(() => 'genuine') });
    const reg = await gw.register({
      service: 'slow',
      url: `http://127.0.0.1:${slow.port}`,
      routes: slow.routeSpecs().map((r) => ({ method: r.method, path: r.path, protocol: 'ws', public: true })),
    });
    assert.equal(reg.status, 200);
    const client = await Client.open(base);
    await client.ask({ path: '/chat/join', id: 'j', data: { username: 'Mallory', room: 'x' } });
    client.send({ path: '/slow/op', id: 'victim' });
    await waitFor(() => slow.connections === 1, 'slow link');
    assert.deepEqual(await client.ask({ path: '/chat/forge', id: 'f', data: { id: 'victim' } }), {
      id: 'f',
      data: 'forged one',
    });
    release!();
    assert.deepEqual(await client.next(), { id: 'victim', data: 'genuine' });
    assert.equal(client.pending, 0);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /fleetgate_ws_frames_dropped_total\{service="chat",reason="forged_reply"\} 1\b/);
    client.ws.close();
  });

  it('serves MessagePack and JSON clients side by side, server requests included', async () => {
    const packed = await Client.open(base, 'fleetgate.msgpack');
    const plain = await Client.open(base, 'fleetgate.json');
    assert.equal(packed.ws.protocol, 'fleetgate.msgpack');
    assert.equal(plain.ws.protocol, 'fleetgate.json');
    const [pj, jj] = await Promise.all([
      packed.ask({ path: '/chat/join', id: 1, data: { username: 'Pack', room: 'bin' } }),
      plain.ask({ path: '/chat/join', id: 1, data: { username: 'Jay', room: 'txt' } }),
    ]);
    assert.equal(pj.data!.status, 'joined');
    assert.equal(jj.data!.status, 'joined');
    assert.equal((await packed.ask({ path: '/chat/message', id: 2, data: { text: 'ü' } })).data!.from, 'Pack');
    assert.equal((await plain.ask({ path: '/chat/message', id: 2, data: { text: 'ü' } })).data!.from, 'Jay');
    // Gateway errors come in the client's encoding too.
    assert.equal((await packed.ask({ path: '/nowhere', id: 3 })).error?.code, 'ERR_FG_NO_ROUTE');
    // The gateway rewrites ids of server requests inside MessagePack frames as well.
    let answered = 0;
    packed.onRequest = () => {
      answered++;
      if (answered === 1) packed.ws.close();
      return { cpu: 1, memory: 1 };
    };
    const started = await packed.ask({ path: '/monitor/start', id: 4 });
    const owner = started.data!.instance === 'chat-a' ? a : b;
    const end = await owner.waitForEvent((e) => e.ev === 'monitor-end' && e.conn === started.data!.conn, 'monitor end');
    assert.equal(end.code, 'ERR_FG_WS_CLIENT_GONE');
    assert.ok((end.answers ?? 0) <= 1);
    plain.ws.close();
  });

  it('calls onOpen/onClose exactly once per pin, also when an instance is killed and the client re-pins', async () => {
    const client = await Client.open(base);
    const joined = await client.ask({ path: '/chat/join', id: 1, data: { username: 'Dora', room: 'r' } });
    const conn = joined.data!.conn!;
    const [victim, survivor] = joined.data!.instance === 'chat-a' ? [a, b] : [b, a];
    assert.deepEqual(
      victim.eventsOf(conn).map((e) => [e.ev, e.repinned]),
      [['open', false]],
    );
    await victim.kill();
    const lost = await client.next();
    assert.equal(lost.error?.code, 'ERR_FG_UPSTREAM_CONNECT');
    assert.equal(lost.error?.service, 'chat');
    // The next message is pinned to the live instance, which starts empty and is told so.
    const rejoined = await client.ask({ path: '/chat/message', id: 2, data: { text: 'still me?' } });
    assert.equal(rejoined.error?.code, 'ERR_FG_WS_SOCKET_VALUE_MISSING');
    assert.equal(
      (await client.ask({ path: '/chat/join', id: 3, data: { username: 'Dora', room: 'r' } })).data!.instance,
      survivor.label,
    );
    assert.equal((await client.ask({ path: '/chat/message', id: 4, data: { text: 'yes' } })).data!.from, 'Dora');
    const closed = closedWith(client.ws);
    client.ws.close();
    await closed;
    await survivor.waitForEvent((e) => e.ev === 'close' && e.conn === conn, 'close hook');
    assert.deepEqual(
      survivor.eventsOf(conn).map((e) => [e.ev, e.ev === 'open' ? e.repinned : e.user]),
      [
        ['open', true],
        ['close', 'Dora'],
      ],
    );
    const close = survivor.eventsOf(conn).find((e) => e.ev === 'close')!;
    assert.equal(close.code, 1001);
    assert.ok((close.durationMs ?? -1) >= 0);
    // Nothing more arrives for this connection (at most once each per pin).
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(survivor.eventsOf(conn).length, 2);
    assert.equal(victim.eventsOf(conn).length, 1);
  });
});
