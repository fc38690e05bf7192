/**
 * Issue #13 points 4–7 through the `fleetgate` bin: operator endpoints refuse outsiders and
 * `/health` is redacted for them; a service DOWN by active health checks answers 503 at once with
 * no request reaching the upstream, and 200 again after recovery (furt's criterion); a client
 * sending its body slowly is cut at SERVER_REQUEST_TIMEOUT while others are served at once; on
 * SIGTERM readiness fails first, WebSocket clients hear 1001 and the process exits cleanly.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { startGateway } from './support/gateway-process.js';

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('fleetgate bin: operator endpoints, DOWN means out, slow bodies', () => {
  it('refuses operator endpoints to outside callers and redacts /health for them', async () => {
    // 127.0.0.1 is not in ADMIN_ALLOW_FROM: this test is an outside caller unless it shows the token.
    await using gw = await startGateway({ ADMIN_ALLOW_FROM: '10.0.0.0/8', ADMIN_TOKEN: 'ops-token' });
    const reg = await gw.register({
      service: 'sagjan',
      url: 'http://127.0.0.1:7812',
      routes: [{ method: 'GET', path: '/api/c/*' }],
    });
    assert.equal(reg.status, 200);
    for (const path of ['/metrics', '/_fleetgate/explain?path=/api/c/1', '/internal/services']) {
      const res = await fetch(`${gw.url}${path}`);
      assert.equal(res.status, 403, path);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'ERR_FG_FORBIDDEN');
    }
    const health = await fetch(`${gw.url}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), {
      status: 'healthy',
      service: 'fleetgate',
      services: { sagjan: { status: 'UP' } },
    });
    const admin = await fetch(`${gw.url}/metrics`, { headers: { authorization: 'Bearer ops-token' } });
    assert.equal(admin.status, 200);
  });

  it("furt's criterion: DOWN after 3 failed checks means 503 with no request upstream, then 200 after recovery", async () => {
    let healthy = true;
    let apiRequests = 0;
    let probes = 0;
    let connections = 0;
    const upstream = createServer((req, res) => {
      if (req.url === '/health') {
        probes++;
        res.writeHead(healthy ? 200 : 500).end();
        return;
      }
      apiRequests++;
      res.end('ok');
    });
    upstream.on('connection', () => connections++);
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
    try {
      await using gw = await startGateway({
        HEALTH_CHECK_INTERVAL: '150ms',
        HEALTH_DOWN_INTERVAL: '150ms',
        HEALTH_CHECK_TIMEOUT: '100ms',
        HEALTH_MAX_FAILURES: '3',
      });
      const reg = await gw.register({
        service: 'revoke',
        url,
        health_endpoint: '/health',
        routes: [{ method: 'GET', path: '/revoke/*' }],
      });
      assert.equal(reg.status, 200);
      assert.equal((await fetch(`${gw.url}/revoke/1`)).status, 200);
      healthy = false;
      await until(
        async () => {
          const h = (await (await fetch(`${gw.url}/health`)).json()) as { services: { revoke?: { status: string } } };
          return h.services.revoke?.status === 'DOWN';
        },
        10_000,
        'the service DOWN after 3 failed checks',
      );
      const apiBefore = apiRequests;
      const connectionsBefore = connections;
      const probesBefore = probes;
      for (let i = 0; i < 20; i++) {
        const res = await fetch(`${gw.url}/revoke/${i}`);
        assert.equal(res.status, 503);
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'ERR_FG_NO_HEALTHY_INSTANCE');
      }
      assert.equal(apiRequests, apiBefore, 'no request reached the DOWN upstream');
      // Probes may open connections meanwhile; the proxy opened none.
      assert.ok(connections - connectionsBefore <= probes - probesBefore, 'no connect attempt by the proxy');
      healthy = true;
      await until(async () => (await fetch(`${gw.url}/revoke/x`)).status === 200, 10_000, 'recovery to 200');
    } finally {
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream.close(resolve));
    }
  });

  it('cuts a slow-body client at SERVER_REQUEST_TIMEOUT while other clients are served in milliseconds', async () => {
    await using gw = await startGateway({ SERVER_REQUEST_TIMEOUT: '1s', SERVER_HEADERS_TIMEOUT: '1s' });
    const socket = connect(gw.port, '127.0.0.1');
    socket.on('error', () => {});
    let answer = '';
    socket.setEncoding('utf8').on('data', (d: string) => {
      answer += d;
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const started = performance.now();
    socket.write(
      'POST /internal/register-service HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n',
    );
    // One byte every 250 ms: far slower than any real client.
    const trickle = setInterval(() => socket.write('{'), 250);
    const others: number[] = [];
    try {
      while (performance.now() - started < 700) {
        const t = performance.now();
        assert.equal((await fetch(`${gw.url}/livez`)).status, 200);
        others.push(performance.now() - t);
      }
      await Promise.race([
        closed,
        new Promise((_, reject) => setTimeout(() => reject(new Error('the slow client was never cut')), 5000)),
      ]);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
    const cutAfter = performance.now() - started;
    assert.match(answer, /^HTTP\/1\.1 408/);
    assert.ok(cutAfter < 3000, `cut after ${Math.round(cutAfter)} ms`);
    const slowest = Math.max(...others);
    process.stdout.write(
      `# slow body cut after ${Math.round(cutAfter)} ms; ${others.length} other requests, slowest ${slowest.toFixed(1)} ms\n`,
    );
    assert.ok(slowest < 500, `other clients served at once (slowest ${slowest.toFixed(1)} ms)`);
  });

  it('on SIGTERM fails /readyz first, closes WebSockets with 1001, and exits 0', async () => {
    const upstream = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => upstream.once('listening', resolve));
    upstream.on('connection', (socket) => socket.on('message', (data) => socket.send(data)));
    const port = (upstream.address() as { port: number }).port;
    try {
      await using gw = await startGateway({ SHUTDOWN_DELAY: '400ms', SHUTDOWN_GRACE: '2s' });
      const reg = await gw.register({
        service: 'live',
        url: `http://127.0.0.1:${port}`,
        routes: [{ method: 'GET', path: '/live/**' }],
      });
      assert.equal(reg.status, 200);
      const client = new WebSocket(`${gw.url.replace('http', 'ws')}/live/room`);
      await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
      const echoed = new Promise<string>((resolve) => client.once('message', (d) => resolve(String(d))));
      client.send('ping');
      assert.equal(await echoed, 'ping');
      const closed = new Promise<number>((resolve) => client.once('close', (code) => resolve(code)));
      assert.equal((await fetch(`${gw.url}/readyz`)).status, 200);
      gw.child.kill('SIGTERM');
      // Within SHUTDOWN_DELAY the gateway still serves, but says it is not ready.
      await until(async () => (await fetch(`${gw.url}/readyz`)).status === 503, 2000, '/readyz to fail');
      assert.equal((await fetch(`${gw.url}/livez`)).status, 200);
      assert.equal(await closed, 1001);
      const exit = await gw.exited;
      assert.deepEqual([exit.code, exit.signal], [0, null]);
    } finally {
      for (const socket of upstream.clients) socket.terminate();
      await new Promise((resolve) => upstream.close(resolve));
    }
  });
});
