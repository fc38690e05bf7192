/**
 * The front door through the `fleetgate` bin (issue #13 points 1–3, #12 point 7): forwarded headers
 * nobody can strip, X-Forwarded-* believed only from TRUSTED_PROXIES, input bounds at the edge
 * (TRACE, two Host headers, bad WebSocket handshakes, long request ids) and Via loop detection,
 * sent with raw sockets where no HTTP client would send such requests.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type GatewayProcess, startGateway } from './support/gateway-process.js';
import { rawHttp } from './support/raw-http.js';

type Bin = GatewayProcess & { readonly url: string; readonly port: number };

/** An upstream that records what reached it and names the gateway's headers in its own Connection. */
class RecordingUpstream {
  readonly seen: IncomingHttpHeaders[] = [];
  upgrades = 0;
  readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      this.seen.push(req.headers);
      req.resume();
      const body = JSON.stringify({ path: req.url });
      res.writeHead(200, [
        'Content-Type',
        'application/json',
        'Content-Length',
        String(Buffer.byteLength(body)),
        // A hostile (or confused) upstream tries to strip what the gateway adds to the response.
        'Connection',
        'x-gateway, server-timing, via, x-request-id',
      ]);
      res.end(body);
    });
    this.server.on('upgrade', (_req, socket) => {
      this.upgrades++;
      socket.destroy();
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  last(): IncomingHttpHeaders {
    const h = this.seen.at(-1);
    assert.ok(h !== undefined, 'the upstream saw no request');
    return h;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function register(bin: Bin, service: string, url: string, path: string): Promise<Response> {
  return bin.register({ service, url, instance_id: `${service}-1`, routes: [{ method: '*', path }] });
}

const FORWARDING = 'X-Forwarded-For, X-Request-Id, traceparent, X-Forwarded-Proto, X-Forwarded-Host, Via';

describe('front door through the bin', () => {
  const upstream = new RecordingUpstream();
  let plain: Bin;
  let behindProxy: Bin;

  before(async () => {
    const url = await upstream.listen();
    [plain, behindProxy] = await Promise.all([
      startGateway({ GATEWAY_NAME: 'edge-plain' }, { name: 'plain' }),
      startGateway({ GATEWAY_NAME: 'edge-trusting', TRUSTED_PROXIES: '127.0.0.1/32' }, { name: 'trusting' }),
    ]);
    for (const bin of [plain, behindProxy]) assert.equal((await register(bin, 'echo', url, '/echo/**')).status, 200);
  });

  after(async () => {
    await Promise.all([plain?.stop(), behindProxy?.stop()]);
    await upstream.close();
  });

  it('the upstream gets the gateway’s forwarding headers whatever the client names in Connection', async () => {
    const res = await rawHttp(plain.port, [
      'GET /echo/a HTTP/1.1',
      'Host: front.example',
      `Connection: close, ${FORWARDING}`,
      'X-Forwarded-For: 6.6.6.6',
      'X-Forwarded-Proto: https',
      'X-Forwarded-Host: evil.example',
      'X-Request-Id: client-id-1',
      'Via: 1.1 somewhere',
    ]);
    assert.equal(res.status, 200);
    const seen = upstream.last();
    assert.equal(seen['x-forwarded-for'], '127.0.0.1', 'the socket peer, nothing the client wrote');
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.equal(seen['x-forwarded-host'], 'front.example');
    assert.match(String(seen['x-request-id']), /^[0-9a-f-]{36}$/, 'a generated id (the client nominated its own)');
    assert.match(String(seen.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.equal(seen.via, '1.1 edge-plain');
    // …and the upstream's Connection cannot strip the gateway's response headers either.
    assert.equal(res.headers.get('x-gateway')?.[0], 'fleetgate');
    assert.match(res.headers.get('server-timing')?.[0] ?? '', /^gateway;dur=/);
    assert.equal(res.headers.get('via')?.[0], '1.1 edge-plain');
    assert.equal(res.headers.get('x-request-id')?.[0], seen['x-request-id']);
  });

  it('X-Forwarded-* are replaced for untrusted peers and extended for TRUSTED_PROXIES', async () => {
    const head = (port: number) => [
      'GET /echo/b HTTP/1.1',
      `Host: 127.0.0.1:${port}`,
      'Connection: close',
      'X-Forwarded-For: 203.0.113.7',
      'X-Forwarded-Proto: https',
      'X-Forwarded-Host: shop.example',
      'Forwarded: for=203.0.113.7',
    ];
    assert.equal((await rawHttp(plain.port, head(plain.port))).status, 200);
    let seen = upstream.last();
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.equal(seen['x-forwarded-host'], `127.0.0.1:${plain.port}`);
    assert.equal(seen.forwarded, undefined, 'an untrusted Forwarded header is not passed on');

    assert.equal((await rawHttp(behindProxy.port, head(behindProxy.port))).status, 200);
    seen = upstream.last();
    assert.equal(seen['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
    assert.equal(seen['x-forwarded-proto'], 'https');
    assert.equal(seen['x-forwarded-host'], 'shop.example');
    assert.equal(seen.forwarded, 'for=203.0.113.7');
  });

  it('TRACE and CONNECT are refused with 405 and never forwarded', async () => {
    const before = upstream.seen.length;
    const res = await rawHttp(plain.port, ['TRACE /echo/c HTTP/1.1', 'Host: a', 'Connection: close']);
    assert.equal(res.status, 405);
    assert.equal(JSON.parse(res.body).error.code, 'ERR_FG_METHOD_NOT_ALLOWED');
    const connect = await rawHttp(plain.port, ['CONNECT 127.0.0.1:1 HTTP/1.1', 'Host: 127.0.0.1:1']);
    assert.equal(connect.status, 405);
    assert.equal(JSON.parse(connect.body).error.code, 'ERR_FG_METHOD_NOT_ALLOWED');
    assert.equal(upstream.seen.length, before);
  });

  it('two Host headers are refused with 400', async () => {
    const before = upstream.seen.length;
    const res = await rawHttp(plain.port, [
      'GET /echo/d HTTP/1.1',
      'Host: a.example',
      'Host: b.example',
      'Connection: close',
    ]);
    assert.equal(res.status, 400);
    assert.equal(JSON.parse(res.body).error.code, 'ERR_FG_BAD_HEADER');
    assert.equal(upstream.seen.length, before);
  });

  it('an X-Request-Id longer than 128 characters (or of unsafe characters) is replaced, not echoed', async () => {
    const long = 'a'.repeat(8000);
    const res = await rawHttp(plain.port, [
      'GET /echo/e HTTP/1.1',
      'Host: a',
      'Connection: close',
      `X-Request-Id: ${long}`,
    ]);
    assert.equal(res.status, 200);
    const id = String(upstream.last()['x-request-id']);
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.equal(res.headers.get('x-request-id')?.[0], id);
    assert.ok(!res.raw.includes(long));
    await rawHttp(plain.port, ['GET /echo/e HTTP/1.1', 'Host: a', 'Connection: close', 'X-Request-Id: a<b>"c']);
    assert.match(String(upstream.last()['x-request-id']), /^[0-9a-f-]{36}$/);
    await rawHttp(plain.port, ['GET /echo/e HTTP/1.1', 'Host: a', 'Connection: close', 'X-Request-Id: ok-id_1.2:3']);
    assert.equal(upstream.last()['x-request-id'], 'ok-id_1.2:3', 'a short, safe id is kept');
  });

  it('WebSocket handshakes are checked before anything reaches the upstream (raw tunnel and /ws)', async () => {
    const before = { upgrades: upstream.upgrades, requests: upstream.seen.length };
    const handshake = (path: string, key: string, version = '13') => [
      `GET ${path} HTTP/1.1`,
      'Host: a',
      'Connection: Upgrade',
      'Upgrade: websocket',
      `Sec-WebSocket-Key: ${key}`,
      `Sec-WebSocket-Version: ${version}`,
    ];
    for (const path of ['/echo/ws', '/ws']) {
      for (const key of ['not-base64!', 'c2hvcnQ=', '']) {
        const res = await rawHttp(plain.port, handshake(path, key));
        assert.equal(res.status, 400, `${path} key ${JSON.stringify(key)}`);
        assert.equal(JSON.parse(res.body).error.code, 'ERR_FG_BAD_HANDSHAKE');
      }
      const old = await rawHttp(plain.port, handshake(path, 'dGhlIHNhbXBsZSBub25jZQ==', '8'));
      assert.equal(old.status, 426);
      assert.equal(old.headers.get('sec-websocket-version')?.[0], '13');
    }
    assert.deepEqual({ upgrades: upstream.upgrades, requests: upstream.seen.length }, before);
  });
});

describe('Via stops loops at the first hop', () => {
  it('two gateways pointing at each other answer 508 without going round', async () => {
    await using a = await startGateway({ GATEWAY_NAME: 'gw-a' }, { name: 'gw-a' });
    await using b = await startGateway({ GATEWAY_NAME: 'gw-b' }, { name: 'gw-b' });
    assert.equal((await register(a, 'loop', b.url, '/loop/**')).status, 200);
    assert.equal((await register(b, 'loop', a.url, '/loop/**')).status, 200);
    const res = await fetch(`${a.url}/loop/x`);
    assert.equal(res.status, 508);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'ERR_FG_LOOP_DETECTED');
    // a → b → a: the second visit to a is refused; b relays that answer and says so in Via.
    assert.equal(res.headers.get('via'), '1.1 gw-b, 1.1 gw-a');
  });

  it('an instance registered at the gateway’s own URL gets 508 (unless registration already refuses it)', async () => {
    await using gw = await startGateway({}, { name: 'self' });
    const reg = await register(gw, 'self', gw.url, '/self/**');
    if (reg.status !== 200) {
      assert.equal(((await reg.json()) as { error: { code: string } }).error.code, 'ERR_FG_SELF_TARGET');
      return;
    }
    const res = await fetch(`${gw.url}/self/x`);
    assert.equal(res.status, 508);
    assert.match(res.headers.get('via') ?? '', /^1\.1 fleetgate-[0-9a-f]{10}$/, 'a random id per process by default');
  });

  it('a chain of different gateways stops at GATEWAY_MAX_HOPS', async () => {
    await using gw = await startGateway({ GATEWAY_MAX_HOPS: '2' }, { name: 'hops' });
    const upstream = new RecordingUpstream();
    try {
      assert.equal((await register(gw, 'hop', await upstream.listen(), '/hop/**')).status, 200);
      assert.equal((await fetch(`${gw.url}/hop/x`, { headers: { via: '1.1 one' } })).status, 200);
      const res = await fetch(`${gw.url}/hop/x`, { headers: { via: '1.1 one, HTTP/2 two (comment, with comma)' } });
      assert.equal(res.status, 508);
      assert.equal(upstream.seen.length, 1);
    } finally {
      await upstream.close();
    }
  });
});
