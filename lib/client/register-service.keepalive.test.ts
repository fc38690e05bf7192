/**
 * registerService against a server with the gateway's own limits (lib/http/server-limits.ts,
 * keep-alive 5 s): does a heartbeat reuse the registration's socket? Not across the 30 s interval
 * a fleet uses: the client's undici Agent drops an idle socket before the server's keep-alive
 * runs out (the server's `Keep-Alive: timeout=5` hint less undici's 2 s margin), so each routine
 * heartbeat opens a new TCP connection. Within the keep-alive window the socket is reused.
 * bench/scale.ts prices both forms ("heartbeat, a new connection each" beside the warm one).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { FakeClock } from '../clock.js';
import { applyServerLimits, resolveServerLimits, serverOptionsFor } from '../http/server-limits.js';
import { register, until } from './register-service.test-kit.js';

/** The interval a gateway with the default TTL asks for. */
const INTERVAL_MS = 30_000;

/** A registration API on a server built as the gateway builds its own, counting its connections. */
class CountingGateway {
  readonly server: Server;
  /** Every connection accepted, in order, and whether the client ended it (FIN) before it closed. */
  readonly sockets: { socket: Socket; closed: boolean; endedByClient: boolean }[] = [];
  heartbeats = 0;

  constructor() {
    const limits = resolveServerLimits();
    this.server = createServer(serverOptionsFor(limits), (req, res) => {
      req.resume();
      req.on('end', () => {
        const json = (body: unknown): void => {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        };
        if (req.method === 'POST') {
          json({
            service: 'sagjan',
            instance_id: 'i-1',
            instance_token: 't-1',
            ttl_ms: 90_000,
            heartbeat_interval_ms: INTERVAL_MS,
            status: 'registered',
          });
        } else {
          if (req.method === 'PUT') this.heartbeats++;
          json({ status: 'ok' });
        }
      });
    });
    applyServerLimits(this.server, limits);
    this.server.on('connection', (socket: Socket) => {
      const seen = { socket, closed: false, endedByClient: false };
      this.sockets.push(seen);
      socket.on('end', () => {
        seen.endedByClient = true;
      });
      socket.on('close', () => {
        seen.closed = true;
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const servers: CountingGateway[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

async function counting(): Promise<{ gw: CountingGateway; url: string }> {
  const gw = new CountingGateway();
  servers.push(gw);
  return { gw, url: await gw.listen() };
}

describe('registerService keep-alive against the gateway server limits', () => {
  it('opens a new connection for a heartbeat sent a 30 s interval after the last request', async () => {
    const { gw, url } = await counting();
    const clock = new FakeClock(0);
    const h = register(url, clock, { instanceId: 'i-1' });
    await h.ready;
    assert.equal(gw.sockets.length, 1);
    // Real time passes while the socket idles (the fake clock holds the heartbeat back): the
    // client drops it after the server's 5 s keep-alive hint less its 2 s margin.
    await until(() => gw.sockets[0]!.closed, 'the idle registration socket to close', 15_000);
    assert.equal(gw.sockets[0]!.endedByClient, true, 'the client, not the server, closed the idle socket');
    for (let beat = 1; beat <= 2; beat++) {
      await clock.advance(INTERVAL_MS * 1.1);
      await until(() => gw.heartbeats === beat, `heartbeat ${beat}`);
      assert.equal(gw.sockets.length, beat + 1, `heartbeat ${beat} came on a connection of its own`);
      if (beat === 1) await until(() => gw.sockets[1]!.closed, 'the heartbeat socket to close', 15_000);
    }
    await h.close();
  });

  it('reuses a socket for heartbeats sent within the keep-alive window', async () => {
    const { gw, url } = await counting();
    const clock = new FakeClock(0);
    const h = register(url, clock, { instanceId: 'i-1' });
    await h.ready;
    await clock.advance(INTERVAL_MS * 1.1);
    await until(() => gw.heartbeats === 1, 'heartbeat 1');
    // undici may open a second socket for the request right after the registration, while it
    // still holds the first; from then on the heartbeats share what is open.
    const open = gw.sockets.length;
    assert.ok(open <= 2);
    for (let beat = 2; beat <= 4; beat++) {
      await clock.advance(INTERVAL_MS * 1.1);
      await until(() => gw.heartbeats === beat, `heartbeat ${beat}`);
    }
    assert.equal(gw.sockets.length, open, 'no heartbeat within the window opened a connection');
    await h.close();
  });
});
